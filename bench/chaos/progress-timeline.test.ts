import { describe, expect, it } from "vitest";
import { longestStallMs, recoveryMs, type ProgressSample } from "./progress-timeline.js";

const samples = (pairs: [number, number][]): ProgressSample[] => pairs.map(([atMs, done]) => ({ atMs, done }));

describe("longestStallMs", () => {
  it("is the largest gap between two moves of the done count, start-up left out", () => {
    const run = samples([[0, 0], [5_000, 0], [5_200, 10], [5_400, 20], [5_600, 20], [8_600, 20], [8_800, 35], [9_000, 40]]);
    expect(longestStallMs(run)).toBe(3_400);
  });

  it("counts an outage with no readings in full", () => {
    expect(longestStallMs(samples([[0, 1], [200, 2], [4_200, 3], [4_400, 4]]))).toBe(4_000);
  });

  it("is 0 until the count moved twice", () => {
    expect(longestStallMs(samples([[0, 0], [9_000, 5]]))).toBe(0);
    expect(longestStallMs([])).toBe(0);
  });
});

describe("recoveryMs", () => {
  const run = samples([[0, 10], [1_000, 20], [2_000, 20], [3_000, 20], [3_400, 21], [4_000, 30]]);

  it("is the time from the event until the count passed its reading at the event", () => {
    expect(recoveryMs(run, 1_500)).toBe(1_900);
    expect(recoveryMs(run, 1_000)).toBe(2_400);
  });

  it("is undefined when the count never moved again, or was never read before", () => {
    expect(recoveryMs(run, 4_000)).toBeUndefined();
    expect(recoveryMs(run, -1)).toBeUndefined();
  });
});
