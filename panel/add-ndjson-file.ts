import type { Admin } from "./api.js";

const BATCH = 5_000;
const encoder = new TextEncoder();

/** The lines of a file, streamed (the file is never held whole), with the bytes read so far. */
async function* linesOf(file: File): AsyncGenerator<{ line: string; number: number; bytes: number }> {
  const reader = file.stream().pipeThrough(new TextDecoderStream()).getReader();
  let rest = "";
  let number = 0;
  let bytes = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    bytes += encoder.encode(value).byteLength;
    const parts = (rest + value).split("\n");
    rest = parts.pop() ?? "";
    for (const line of parts) yield { line, number: ++number, bytes };
  }
  if (rest !== "") yield { line: rest, number: ++number, bytes };
}

/**
 * Adds one unit per line of an NDJSON file: first checks every line (a bad line adds nothing and
 * the error names it), then sends batches of 5,000 with request ids, so a retried batch is stored
 * once. `onProgress(phase, fraction, units)` follows both passes. Resolves with the units added.
 */
export async function addNdjsonFile(admin: Admin, projectId: string, file: File, onProgress: (phase: string, fraction: number, units: number) => void): Promise<number> {
  let units = 0;
  for await (const { line, number, bytes } of linesOf(file)) {
    if (line.trim() === "") continue;
    try {
      JSON.parse(line);
    } catch {
      throw new Error(`${file.name}, line ${number}: not JSON. Nothing was added.`);
    }
    if (++units % 10_000 === 0) onProgress("checking", bytes / file.size, units);
  }
  if (units === 0) throw new Error(`${file.name} holds no inputs.`);
  const run = crypto.randomUUID();
  let added = 0;
  let batch: Uint8Array[] = [];
  const send = async (bytes: number) => {
    const { unitIds } = await admin.addUnits({ projectId, requestId: `panel-${run}-${added}`, units: batch.map((input) => ({ input })) });
    added += unitIds.length;
    batch = [];
    onProgress("adding", bytes / file.size, added);
  };
  let read = 0;
  for await (const { line, bytes } of linesOf(file)) {
    read = bytes;
    if (line.trim() === "") continue;
    batch.push(encoder.encode(line));
    if (batch.length >= BATCH) await send(bytes);
  }
  if (batch.length > 0) await send(read);
  return added;
}
