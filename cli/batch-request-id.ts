import { createHash } from "node:crypto";
import type { NdjsonBatch } from "./read-ndjson-batches.js";

/**
 * The AddUnits request id of one batch of `disio units add`: a SHA-256 of the project id, the
 * `--tag`, the batch's first line number and its inputs (each with its length, so no two batches
 * hash the same bytes). Deterministic, so rerunning the same command over the same file sends the
 * same ids and the manager skips the batches it stored; a batch's content or position changing, or
 * another tag, gives a new id.
 */
export function batchRequestId(projectId: string, tag: string, batch: Pick<NdjsonBatch, "firstLine" | "inputs">): string {
  const hash = createHash("sha256");
  hash.update(`${JSON.stringify(["disio units add", projectId, tag, batch.firstLine, batch.inputs.length])}\n`);
  for (const input of batch.inputs) {
    hash.update(`${input.byteLength}:`);
    hash.update(input);
  }
  return `units-add-${hash.digest("hex")}`;
}
