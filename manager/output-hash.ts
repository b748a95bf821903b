import { hash } from "node:crypto";
import { canonicalJson } from "../core/canonical-json.js";
import type { PayloadEncoding } from "../core/project-settings.js";

/** An output checked against its project's encoding and hashed. */
export type HashedOutput =
  /** Valid: `canonical` is what is stored and `hash` its SHA-256. */
  | { valid: true; canonical: Uint8Array; hash: string }
  /** Not valid JSON for a JSON project: hashed as received, the copy is OUTCOME_INVALID. */
  | { valid: false; hash: string };

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Hashes an output the way quorum compares outputs: JSON outputs in canonical form (sorted keys,
 * no spaces), bytes as they are. Every store backend uses this so agreement is the same everywhere.
 * Outputs already in canonical form (the usual case: workers send `JSON.stringify` of plain values)
 * are stored and hashed as received, without re-encoding them.
 */
export function hashOutput(output: Uint8Array, encoding: PayloadEncoding): HashedOutput {
  if (encoding === "bytes") return { valid: true, canonical: output, hash: sha256Hex(output) };
  let text: string;
  let canonical: string;
  try {
    text = decoder.decode(output);
    canonical = canonicalJson(JSON.parse(text));
  } catch {
    return { valid: false, hash: sha256Hex(output) };
  }
  // Equal text and length: the bytes are the canonical UTF-8 (the decoder drops a leading BOM).
  if (canonical === text && Buffer.byteLength(canonical, "utf8") === output.length) {
    return { valid: true, canonical: output, hash: sha256Hex(output) };
  }
  const bytes = Buffer.from(canonical, "utf8");
  return { valid: true, canonical: bytes, hash: sha256Hex(bytes) };
}

/** Lower-case hex SHA-256. */
export function sha256Hex(data: Uint8Array | string): string {
  return hash("sha256", data, "hex");
}
