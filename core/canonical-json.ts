/**
 * Canonical JSON: object keys sorted by code unit, no insignificant white space, numbers as
 * `JSON.stringify` writes them. Two outputs that mean the same JSON value have the same canonical
 * text, so their SHA-256 is the output hash quorum compares.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    const text = JSON.stringify(value);
    // JSON.stringify returns undefined for undefined, functions and symbols: they are not JSON.
    if (text === undefined) throw new TypeError(`not a JSON value: ${typeof value}`);
    return text;
  }
  if (Array.isArray(value)) {
    return `[${value.map((item) => (item === undefined ? "null" : canonicalJson(item))).join(",")}]`;
  }
  const entries = Object.keys(value)
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
  return `{${entries.join(",")}}`;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses UTF-8 JSON bytes and returns their canonical form as bytes.
 * Throws `SyntaxError` (or `TypeError` for bad UTF-8) when the bytes are not JSON.
 */
export function canonicalizeJsonBytes(bytes: Uint8Array): Uint8Array {
  return encoder.encode(canonicalJson(JSON.parse(decoder.decode(bytes))));
}
