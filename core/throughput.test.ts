import { describe, expect, it } from "vitest";
import { etaMs, lastGrowthMs, throughputPerSecond, THROUGHPUT_STALL_MS } from "./throughput.js";

const samples = (...pairs: [number, number][]) => pairs.map(([atMs, count]) => ({ atMs, count }));

describe("throughputPerSecond", () => {
  it("measures growth over the window", () => {
    expect(throughputPerSecond(samples([0, 0], [1_000, 10], [2_000, 20]), 2_000)).toBe(10);
  });

  it("is 0 once nothing finished for the stall time, so a stopped grid shows no rate and no ETA", () => {
    const s = samples([0, 0], [1_000, 10], [2_000, 20], [10_000, 20], [2_000 + THROUGHPUT_STALL_MS + 1, 20]);
    expect(throughputPerSecond(s.slice(0, 4), 10_000)).toBeGreaterThan(0);
    expect(throughputPerSecond(s, 2_000 + THROUGHPUT_STALL_MS + 1)).toBe(0);
    expect(etaMs(5, throughputPerSecond(s, 2_000 + THROUGHPUT_STALL_MS + 1))).toBeUndefined();
  });

  it("is 0 with a single sample or no samples", () => {
    expect(throughputPerSecond([], 0)).toBe(0);
    expect(throughputPerSecond(samples([0, 5]), 0)).toBe(0);
  });
});

describe("lastGrowthMs", () => {
  it("is the first sample showing the newest count", () => {
    expect(lastGrowthMs(samples([0, 0], [1_000, 3], [2_000, 3], [3_000, 3]))).toBe(1_000);
    expect(lastGrowthMs(samples([0, 3], [1_000, 3]))).toBeUndefined();
  });
});
