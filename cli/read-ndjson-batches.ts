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

/**
 * Reads an NDJSON file (or stdin for `-`) and yields its lines as UTF-8 JSON inputs in batches
 * bounded by count and bytes, with their line numbers. The same content and limits always give the
 * same batches (so a rerun can recognise them). Blank lines are skipped; a line that is not JSON
 * throws an `Error` naming the file and line number, before anything of its batch is yielded
 * (unless `checked`: the caller checked the whole file already, and the manager refuses a line that
 * changed since). A batch's inputs are views of one buffer, not one allocation per line, so memory
 * stays flat however long the file.
 */
export async function* readNdjsonBatches(file: string, limits: NdjsonBatchLimits, options: { checked?: boolean } = {}): AsyncGenerator<NdjsonBatch> {
  const input = file === "-" ? process.stdin : createReadStream(file);
  const lines = createInterface({ input, crlfDelay: Infinity });
  let texts: string[] = [];
  let sizes: number[] = [];
  let lineNumbers: number[] = [];
  let bytes = 0;
  let lineNumber = 0;
  const batch = (): NdjsonBatch => {
    const buffer = Buffer.from(texts.join(""));
    let offset = 0;
    const inputs = sizes.map((size) => buffer.subarray(offset, (offset += size)));
    return { inputs, firstLine: lineNumbers[0]!, lastLine: lineNumbers.at(-1)!, lineNumbers };
  };
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === "") continue;
    if (!options.checked) {
      try {
        JSON.parse(line);
      } catch (error) {
        throw new Error(`${file}:${lineNumber}: not JSON (${(error as Error).message})`);
      }
    }
    const size = Buffer.byteLength(line);
    if (texts.length > 0 && (texts.length >= limits.maxCount || bytes + size > limits.maxBytes)) {
      yield batch();
      [texts, sizes, lineNumbers, bytes] = [[], [], [], 0];
    }
    texts.push(line);
    sizes.push(size);
    lineNumbers.push(lineNumber);
    bytes += size;
  }
  if (texts.length > 0) yield batch();
}
