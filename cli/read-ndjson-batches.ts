import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

/** Limits of {@link readNdjsonBatches}. */
export interface NdjsonBatchLimits {
  /** Most lines per batch. */
  maxCount: number;
  /** Most bytes of input per batch. */
  maxBytes: number;
}

const encoder = new TextEncoder();

/**
 * Reads an NDJSON file (or stdin for `-`) and yields its lines as UTF-8 JSON inputs in batches
 * bounded by count and bytes. Blank lines are skipped; a line that is not JSON throws an `Error`
 * naming the file and line number, before anything of its batch is yielded.
 */
export async function* readNdjsonBatches(file: string, limits: NdjsonBatchLimits): AsyncGenerator<Uint8Array[]> {
  const input = file === "-" ? process.stdin : createReadStream(file);
  const lines = createInterface({ input, crlfDelay: Infinity });
  let batch: Uint8Array[] = [];
  let bytes = 0;
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === "") continue;
    try {
      JSON.parse(line);
    } catch (error) {
      throw new Error(`${file}:${lineNumber}: not JSON (${(error as Error).message})`);
    }
    const encoded = encoder.encode(line);
    if (batch.length > 0 && (batch.length >= limits.maxCount || bytes + encoded.length > limits.maxBytes)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(encoded);
    bytes += encoded.length;
  }
  if (batch.length > 0) yield batch;
}
