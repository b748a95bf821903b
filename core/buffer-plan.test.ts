import { describe, expect, it } from "vitest";
import { bufferPlan } from "./buffer-plan.js";

const settings = { lowWatermark: 100, highWatermark: 400, capacity: 1000, leaseBatch: 250 };

describe("bufferPlan", () => {
  const cases: [string, { ready: number; held: number; inFlight: number; draining: boolean }, number][] = [
    ["empty buffer: one full batch", { ready: 0, held: 0, inFlight: 0, draining: false }, 250],
    ["below low: fill up to high, within a batch", { ready: 99, held: 99, inFlight: 0, draining: false }, 250],
    ["in-flight copies still below low: another batch", { ready: 50, held: 50, inFlight: 49, draining: false }, 250],
    ["at low watermark: nothing", { ready: 100, held: 100, inFlight: 0, draining: false }, 0],
    ["in-flight counts toward the buffer", { ready: 10, held: 10, inFlight: 95, draining: false }, 0],
    ["capacity bounds: many copies in clients' hands", { ready: 0, held: 900, inFlight: 0, draining: false }, 100],
    ["at capacity: nothing", { ready: 0, held: 1000, inFlight: 0, draining: false }, 0],
    ["draining: nothing", { ready: 0, held: 0, inFlight: 0, draining: true }, 0],
  ];
  for (const [name, state, count] of cases) {
    it(name, () => expect(bufferPlan(state, settings).count).toBe(count));
  }

  it("fills to the high watermark when the batch allows", () => {
    expect(bufferPlan({ ready: 90, held: 90, inFlight: 0, draining: false }, { ...settings, leaseBatch: 5000 }).count).toBe(310);
  });
});
