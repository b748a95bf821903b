import { describe, expect, it } from "vitest";
import { reportBatching } from "./report-batching.js";

const settings = { reportBatch: 5000, flushIntervalMs: 250 };

describe("reportBatching", () => {
  it("waits a whole interval when nothing is buffered", () => {
    expect(reportBatching({ pending: 0, sinceMs: 0 }, 10_000, settings)).toEqual({ waitMs: 250 });
  });
  it("sends a full batch at once", () => {
    expect(reportBatching({ pending: 12_000, sinceMs: 1000 }, 1000, settings)).toEqual({ send: 5000 });
  });
  it("holds a partial batch until the interval passed", () => {
    expect(reportBatching({ pending: 10, sinceMs: 1000 }, 1100, settings)).toEqual({ waitMs: 150 });
    expect(reportBatching({ pending: 10, sinceMs: 1000 }, 1250, settings)).toEqual({ send: 10 });
  });
});
