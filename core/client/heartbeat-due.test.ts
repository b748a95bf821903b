import { describe, expect, it } from "vitest";
import { heartbeatDue, type HeartbeatState } from "./heartbeat-due.js";

describe("heartbeatDue", () => {
  const base: HeartbeatState = { holding: 4, returnsWaiting: 0, lastSentMs: 10_000, intervalMs: 5_000 };
  const cases: Array<[string, Partial<HeartbeatState>, number, boolean]> = [
    ["holding, reported recently", {}, 14_999, false],
    ["holding, an interval since the last report", {}, 15_000, true],
    ["holding nothing, long silent", { holding: 0 }, 100_000, false],
    ["no interval asked by the distributor", { intervalMs: undefined }, 100_000, false],
    ["copies to hand back, just reported", { returnsWaiting: 2 }, 10_001, true],
  ];
  for (const [name, change, now, due] of cases) {
    it(name, () => expect(heartbeatDue({ ...base, ...change }, now)).toBe(due));
  }
});
