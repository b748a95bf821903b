import { describe, expect, it } from "vitest";
import { reportFlushDelay } from "./report-flush.js";

const policy = { maxBatch: 100, maxDelayMs: 25 };
const base = { pending: 10, oldestAtMs: 1_000, inFlight: false, draining: false };

describe("reportFlushDelay", () => {
  it.each([
    ["nothing pending", { ...base, pending: 0, oldestAtMs: undefined }, 1_000, undefined],
    ["a call in flight", { ...base, inFlight: true }, 1_100, undefined],
    ["a full batch", { ...base, pending: 100 }, 1_000, 0],
    ["more than a batch", { ...base, pending: 250 }, 1_000, 0],
    ["draining", { ...base, pending: 1, draining: true }, 1_000, 0],
    ["young results wait the rest of the delay", base, 1_010, 15],
    ["the oldest waited the full delay", base, 1_025, 0],
    ["overdue", base, 2_000, 0],
  ] as const)("%s", (_name, state, now, expected) => {
    expect(reportFlushDelay(state, now, policy)).toBe(expected);
  });
});
