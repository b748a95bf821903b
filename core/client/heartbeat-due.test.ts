import { describe, expect, it } from "vitest";
import { heartbeatDue, type HeartbeatState } from "./heartbeat-due.js";

describe("heartbeatDue", () => {
  const base: HeartbeatState = { returnsWaiting: 0, lastSentMs: 10_000, intervalMs: 5_000 };
  const cases: Array<[string, Partial<HeartbeatState>, number, boolean]> = [
    ["reported recently", {}, 14_999, false],
    ["an interval since the last report (idle or not: the distributor counts silent clients as gone)", {}, 15_000, true],
    ["no interval asked by the distributor", { intervalMs: undefined }, 100_000, false],
    ["copies to hand back, just reported", { returnsWaiting: 2 }, 10_001, true],
  ];
  for (const [name, change, now, due] of cases) {
    it(name, () => expect(heartbeatDue({ ...base, ...change }, now)).toBe(due));
  }
});
