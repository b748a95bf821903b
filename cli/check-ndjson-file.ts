import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

/** What {@link checkNdjsonFile} found in a valid file. */
export interface NdjsonFileSummary {
  /** Inputs (non-blank lines). */
  units: number;
  /** Bytes of the file. */
  bytes: number;
}

/**
 * Reads an NDJSON file once, line by line in constant memory, and throws an `Error` naming the
 * file and line of the first line that is not JSON, so `units add` stores nothing from a file with
 * a bad line anywhere. A file holding one JSON array (pretty-printed over many lines, or on one
 * line) is refused with a hint: one unit per element is rarely what a one-unit file meant.
 */
export async function checkNdjsonFile(file: string): Promise<NdjsonFileSummary> {
  const stream = createReadStream(file);
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let lineNumber = 0;
  let units = 0;
  let firstLine = "";
  for await (const line of lines) {
    lineNumber++;
    const text = line.trim();
    if (text === "") continue;
    if (units === 0) firstLine = text;
    try {
      JSON.parse(line);
    } catch (error) {
      if (units === 0 && text.startsWith("[")) throw arrayFileError(file);
      throw new Error(`${file}:${lineNumber}: not JSON (${(error as Error).message}); nothing was added`);
    }
    units++;
  }
  if (units === 1 && firstLine.startsWith("[")) throw arrayFileError(file);
  return { units, bytes: stream.bytesRead };
}

function arrayFileError(file: string): Error {
  return new Error(
    `${file} holds one JSON array, not NDJSON (one JSON input per line): pass --array to add one unit per element, or convert it with jq -c '.[]' ${file}; nothing was added`,
  );
}
