import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { Canary } from "../sdk/index.js";

/** Most canaries per file: one AddUnits call (canaries are a small pool re-leased for ever). */
export const MAX_CANARIES = 100_000;

/** What {@link readCanaryFile} read: the canaries, and their lines as written (for a request id). */
export interface CanaryFile {
  canaries: Canary[];
  lines: Uint8Array[];
}

/**
 * Reads the canaries of `disio units add --canaries`: NDJSON (or stdin for `-`), one
 * `{"input": …, "expected": …}` per line, the input as an ordinary unit's and the known right
 * output. For a bytes project (`bytes` true for that side) the value is base64 text. The whole file
 * is checked first: a bad line throws an `Error` naming the file and line, and nothing is added.
 */
export async function readCanaryFile(file: string, bytes: { input: boolean; output: boolean }): Promise<CanaryFile> {
  const lines = createInterface({ input: file === "-" ? process.stdin : createReadStream(file), crlfDelay: Infinity });
  const read: CanaryFile = { canaries: [], lines: [] };
  const name = file === "-" ? "stdin" : file;
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === "") continue;
    const where = `${name}:${lineNumber}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new Error(`${where}: not JSON (${(error as Error).message}); nothing was added`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value) || !("input" in value) || !("expected" in value)) {
      throw new Error(`${where}: a canary line is {"input": …, "expected": …} (the input and its known right output); nothing was added`);
    }
    const { input, expected } = value as { input: unknown; expected: unknown };
    read.canaries.push({ input: bytes.input ? base64(input, `${where}: input`) : input, expected: bytes.output ? base64(expected, `${where}: expected`) : expected });
    read.lines.push(Buffer.from(line));
    if (read.canaries.length > MAX_CANARIES) throw new Error(`${name}: more than ${MAX_CANARIES} canaries; a few dozen drawn like the real inputs are enough; nothing was added`);
  }
  if (read.canaries.length === 0) throw new Error(`${name}: no canary line; nothing was added`);
  return read;
}

function base64(value: unknown, what: string): Uint8Array {
  if (typeof value !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw new Error(`${what}: a bytes project takes base64 text here; nothing was added`);
  return Buffer.from(value, "base64");
}
