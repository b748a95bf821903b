import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

/** Limits of {@link readNdjsonBatches}. */
export interface NdjsonBatchLimits {
  /** Most lines per batch. */
  maxCount: number;
  /** Most bytes of input per batch. */
  maxBytes: number;
}

/** One batch of {@link readNdjsonBatches}: the inputs of lines `firstLine` … `lastLine` (1-based). */
export interface NdjsonBatch {
  /** The non-blank lines' UTF-8 JSON, in file order. */
  inputs: Uint8Array[];
  /** Line number of the first input. */
  firstLine: number;
  /** Line number of the last input. */
  lastLine: number;
  /** Line number of each input. */
  lineNumbers: number[];
}

const encoder = new TextEncoder();

/**
 * Reads an NDJSON file (or stdin for `-`) and yields its lines as UTF-8 JSON inputs in batches
 * bounded by count and bytes, with their line numbers. The same content and limits always give the
 * same batches (so a rerun can recognise them). Blank lines are skipped; a line that is not JSON
 * throws an `Error` naming the file and line number, before anything of its batch is yielded.
 */
export async function* readNdjsonBatches(file: string, limits: NdjsonBatchLimits): AsyncGenerator<NdjsonBatch> {
  const input = file === "-" ? process.stdin : createReadStream(file);
  const lines = createInterface({ input, crlfDelay: Infinity });
  let batch: NdjsonBatch = { inputs: [], firstLine: 0, lastLine: 0, lineNumbers: [] };
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
    if (batch.inputs.length > 0 && (batch.inputs.length >= limits.maxCount || bytes + encoded.length > limits.maxBytes)) {
      yield batch;
      batch = { inputs: [], firstLine: 0, lastLine: 0, lineNumbers: [] };
      bytes = 0;
    }
    if (batch.inputs.length === 0) batch.firstLine = lineNumber;
    batch.inputs.push(encoded);
    batch.lineNumbers.push(lineNumber);
    batch.lastLine = lineNumber;
    bytes += encoded.length;
  }
  if (batch.inputs.length > 0) yield batch;
}
