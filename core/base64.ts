/**
 * Standard base64 of bytes and back, with the `btoa`/`atob` globals that Node ≥ 16 and browsers share
 * (core stays free of `Buffer`). Used for keys, which are short.
 */

/** Standard (padded) base64 of `bytes`. */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** The bytes of standard base64 `text`; undefined when it is not base64. */
export function fromBase64(text: string): Uint8Array | undefined {
  try {
    return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
  } catch {
    return undefined;
  }
}
