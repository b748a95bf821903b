import { describe, expect, it } from "vitest";
import { HISTORY_MINUTES, MinuteCounts } from "./minute-counts.js";

const MINUTE = 60_000;
const T0 = 29_000_000 * MINUTE; // a whole minute

describe("MinuteCounts", () => {
  it("sums what is added per whole minute and reads the last hour oldest first, the current minute last", () => {
    const counts = new MinuteCounts();
    counts.add(T0 + 1_000, 5);
    counts.add(T0 + 59_999, 2);
    counts.add(T0 + 2 * MINUTE, 9);
    const series = counts.series(T0 + 2 * MINUTE + 30_000);
    expect(series.startMs).toBe(T0 - (HISTORY_MINUTES - 3) * MINUTE);
    expect(series.counts).toHaveLength(HISTORY_MINUTES);
    expect(series.counts.slice(-3)).toEqual([7, 0, 9]);
    expect(series.counts.slice(0, -3).every((n) => n === 0)).toBe(true);
  });

  it("forgets minutes older than an hour, also when their slot comes round again", () => {
    const counts = new MinuteCounts();
    counts.add(T0, 4);
    counts.add(T0 + HISTORY_MINUTES * MINUTE, 1); // same slot, an hour later
    expect(counts.series(T0 + HISTORY_MINUTES * MINUTE).counts).toEqual([...new Array(HISTORY_MINUTES - 1).fill(0), 1]);
    expect(counts.series(T0 + 3 * HISTORY_MINUTES * MINUTE).counts.every((n) => n === 0)).toBe(true);
  });
});
