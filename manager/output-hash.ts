import { createHash } from "node:crypto";
import { canonicalizeJsonBytes } from "../core/canonical-json.js";
import type { PayloadEncoding } from "../core/project-settings.js";

/** An output checked against its project's encoding and hashed. */
export type HashedOutput =
  /** Valid: `canonical` is what is stored and `hash` its SHA-256. */
  | { valid: true; canonical: Uint8Array; hash: string }
  /** Not valid JSON for a JSON project: hashed as received, the copy is OUTCOME_INVALID. */
  | { valid: false; hash: string };

/**
 * Hashes an output the way quorum compares outputs: JSON outputs in canonical form (sorted keys,
 * no spaces), bytes as they are. Every store backend uses this so agreement is the same everywhere.
 */
export function hashOutput(output: Uint8Array, encoding: PayloadEncoding): HashedOutput {
  if (encoding === "bytes") return { valid: true, canonical: output, hash: sha256Hex(output) };
  try {
    const canonical = canonicalizeJsonBytes(output);
    return { valid: true, canonical, hash: sha256Hex(canonical) };
  } catch {
    return { valid: false, hash: sha256Hex(output) };
  }
}

/** Lower-case hex SHA-256. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}
