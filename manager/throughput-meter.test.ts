import { describe, expect, it } from "vitest";
import { ThroughputMeter } from "./throughput-meter.js";

const MINUTE = 60_000;
const T0 = 29_000_000 * MINUTE;

describe("ThroughputMeter history", () => {
  it("puts each sample's growth of the finished count in its minute (drops from requeues count nothing) and forgets deleted projects", () => {
    const meter = new ThroughputMeter();
    const at = (ms: number, count: number) => meter.sample(new Map([["p1", count]]), T0 + ms);
    at(0, 1_000); // the first sample: a baseline, nothing counted (finished before the manager started)
    at(30_000, 1_030);
    at(90_000, 1_100);
    at(100_000, 1_090); // units requeued
    at(110_000, 1_095);
    const history = meter.history("p1", T0 + 110_000);
    expect(history.startMs).toBe(T0 - 58 * MINUTE);
    expect(history.counts.slice(-2)).toEqual([30, 75]);
    expect(history.counts.slice(0, -2).every((n) => n === 0)).toBe(true);
    meter.sample(new Map(), T0 + 120_000);
    expect(meter.history("p1", T0 + 120_000).counts.every((n) => n === 0)).toBe(true);
  });
});
