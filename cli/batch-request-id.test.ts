import { describe, expect, it } from "vitest";
import { batchRequestId } from "./batch-request-id.js";
import type { NdjsonBatch } from "./read-ndjson-batches.js";

const batch = (firstLine: number, ...lines: string[]): NdjsonBatch => ({
  inputs: lines.map((line) => new TextEncoder().encode(line)),
  firstLine,
  lastLine: firstLine + lines.length - 1,
  lineNumbers: lines.map((_, i) => firstLine + i),
});

describe("batchRequestId", () => {
  const id = batchRequestId("p1", "", batch(1, "1", "2"));

  it("is the same for the same project, tag, position and lines, and fits AddUnits' 128 characters", () => {
    expect(batchRequestId("p1", "", batch(1, "1", "2"))).toBe(id);
    expect(id).toMatch(/^units-add-[0-9a-f]{64}$/);
    expect(id.length).toBeLessThanOrEqual(128);
  });

  const others: Array<[string, string]> = [
    ["another project", batchRequestId("p2", "", batch(1, "1", "2"))],
    ["another tag", batchRequestId("p1", "again", batch(1, "1", "2"))],
    ["another position", batchRequestId("p1", "", batch(3, "1", "2"))],
    ["another line", batchRequestId("p1", "", batch(1, "1", "3"))],
    ["one line fewer", batchRequestId("p1", "", batch(1, "1"))],
    ["lines split otherwise", batchRequestId("p1", "", batch(1, "1\n2"))],
  ];
  for (const [what, other] of others) {
    it(`differs for ${what}`, () => {
      expect(other).not.toBe(id);
    });
  }
});
