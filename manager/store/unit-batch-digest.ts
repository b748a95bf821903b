import { createHash } from "node:crypto";
import type { NewUnit } from "./store.js";

/**
 * A SHA-256 (hex) of a batch of units: their count, then each unit's priority, input length and
 * input bytes. Stores keep it with an AddUnits request id, so a repeat of the id with other units
 * is told apart from a retry; lengths are hashed so no two batches can run together into the same
 * bytes. Stable across versions: stored digests are compared with new ones.
 */
export function unitBatchDigest(units: readonly NewUnit[]): string {
  const hash = createHash("sha256");
  const header = Buffer.alloc(8);
  header.writeUInt32LE(units.length, 0);
  hash.update(header.subarray(0, 4));
  for (const unit of units) {
    header.writeInt32LE(unit.priority, 0);
    header.writeUInt32LE(unit.input.byteLength, 4);
    hash.update(header);
    hash.update(unit.input);
  }
  return hash.digest("hex");
}
