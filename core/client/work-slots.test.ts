import { describe, expect, it } from "vitest";
import { nextWorkSlots } from "./work-slots.js";

const base = { current: 8, floor: 8, ceiling: 4096, executors: 2, meanRunMs: 1_000, cycleMs: 50, taskLeaseMs: 60_000, meanTaskBytes: 20, maxBytesInHand: 64 << 20 };

describe("nextWorkSlots", () => {
  it("keeps the credit for slow units (a second each)", () => {
    expect(nextWorkSlots(base)).toBeUndefined();
  });
  it("grows to the ceiling for trivial units", () => {
    expect(nextWorkSlots({ ...base, meanRunMs: 0.01 })).toBe(4096);
  });
  it("grows to executors × cycle / run time, doubled, plus the floor", () => {
    // 8 + 2·2·50/1 = 208
    expect(nextWorkSlots({ ...base, meanRunMs: 1 })).toBe(208);
  });
  it("does not grow by less than a factor of two", () => {
    expect(nextWorkSlots({ ...base, current: 150, meanRunMs: 1 })).toBeUndefined();
  });
  it("never holds more than a quarter lease of work", () => {
    // lease 1 s, 10 ms units, 2 executors → 250/10·2 = 50
    expect(nextWorkSlots({ ...base, meanRunMs: 10, cycleMs: 500, taskLeaseMs: 1_000 })).toBe(50);
  });
  it("never holds more than maxBytesInHand of tasks at their mean size, nor fewer than the floor", () => {
    // 1 MiB inputs, 64 MiB in hand → 64 slots for trivial units
    expect(nextWorkSlots({ ...base, meanRunMs: 0.01, meanTaskBytes: 1 << 20 })).toBe(64);
    expect(nextWorkSlots({ ...base, meanRunMs: 0.01, meanTaskBytes: 32 << 20 })).toBeUndefined();
  });
  it("tolerates a zero run time", () => {
    expect(nextWorkSlots({ ...base, meanRunMs: 0, taskLeaseMs: undefined })).toBe(4096);
  });
});
