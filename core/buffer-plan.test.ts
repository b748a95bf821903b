import { describe, expect, it } from "vitest";
import { bufferPlan, type BufferState } from "./buffer-plan.js";

const settings = { lowWatermark: 100, highWatermark: 400, capacity: 1000, capacityBytes: 1_000_000, leaseBatch: 250 };
const state = (s: Partial<BufferState>): BufferState => ({ ready: 0, held: 0, heldBytes: 0, inFlight: 0, draining: false, ...s });

describe("bufferPlan", () => {
  const cases: [string, BufferState, number][] = [
    ["empty buffer: one full batch", state({}), 250],
    ["below low: fill up to high, within a batch", state({ ready: 99, held: 99 }), 250],
    ["in-flight copies still below low: another batch", state({ ready: 50, held: 50, inFlight: 49 }), 250],
    ["at low watermark: nothing", state({ ready: 100, held: 100 }), 0],
    ["in-flight counts toward the buffer", state({ ready: 10, held: 10, inFlight: 95 }), 0],
    ["capacity bounds: many copies in clients' hands", state({ held: 900 }), 100],
    ["at capacity: nothing", state({ held: 1000 }), 0],
    ["held tasks just under the byte capacity: a batch", state({ ready: 10, held: 10, heldBytes: 999_999 }), 250],
    ["held tasks fill the byte capacity: nothing, however few copies", state({ ready: 10, held: 10, heldBytes: 1_000_000 }), 0],
    ["draining: nothing", state({ draining: true }), 0],
  ];
  for (const [name, s, count] of cases) {
    it(name, () => expect(bufferPlan(s, settings).count).toBe(count));
  }

  it("fills to the high watermark when the batch allows", () => {
    expect(bufferPlan(state({ ready: 90, held: 90 }), { ...settings, leaseBatch: 5000 }).count).toBe(310);
  });
});
