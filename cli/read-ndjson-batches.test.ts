import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readNdjsonBatches, type NdjsonBatchLimits } from "./read-ndjson-batches.js";

const dir = mkdtempSync(join(tmpdir(), "disio-ndjson-"));

async function batchesOf(text: string, limits: NdjsonBatchLimits) {
  const file = join(dir, "in.ndjson");
  writeFileSync(file, text);
  const batches = [];
  for await (const batch of readNdjsonBatches(file, limits)) {
    batches.push({ lines: batch.inputs.map((input) => new TextDecoder().decode(input)), firstLine: batch.firstLine, lastLine: batch.lastLine });
  }
  return batches;
}

describe("readNdjsonBatches", () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("cuts batches by count and says which lines each holds, blank lines counted but skipped", async () => {
    expect(await batchesOf('1\n\n2\n3\r\n  \n{"a":4}\n5', { maxCount: 2, maxBytes: 1_000 })).toEqual([
      { lines: ["1", "2"], firstLine: 1, lastLine: 3 },
      { lines: ["3", '{"a":4}'], firstLine: 4, lastLine: 6 },
      { lines: ["5"], firstLine: 7, lastLine: 7 },
    ]);
  });

  it("cuts batches by bytes, a line bigger than the budget alone", async () => {
    expect(await batchesOf('"aaaa"\n"bb"\n"cccccccc"\n1\n', { maxCount: 100, maxBytes: 10 })).toEqual([
      { lines: ['"aaaa"', '"bb"'], firstLine: 1, lastLine: 2 },
      { lines: ['"cccccccc"'], firstLine: 3, lastLine: 3 },
      { lines: ["1"], firstLine: 4, lastLine: 4 },
    ]);
  });

  it("leaves lines unparsed for a file checked before (the manager refuses a line that changed since)", async () => {
    const file = join(dir, "checked.ndjson");
    writeFileSync(file, '1\n{oops\n"é"\n');
    const batches = [];
    for await (const batch of readNdjsonBatches(file, { maxCount: 2, maxBytes: 100 }, { checked: true })) batches.push(batch.inputs.map((input) => Buffer.from(input).toString()));
    expect(batches).toEqual([["1", "{oops"], ['"é"']]);
  });

  it("throws naming the file and line of a line that is not JSON", async () => {
    await expect(batchesOf("1\n2\n{oops\n", { maxCount: 1, maxBytes: 100 })).rejects.toThrow(/in\.ndjson:3: not JSON/);
  });
});
