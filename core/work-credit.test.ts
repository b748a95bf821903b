import { describe, expect, it } from "vitest";
import { parseWorkSlots, workCredit } from "./work-credit.js";

describe("workCredit", () => {
  it("sends the free slots, at most one batch", () => {
    expect(workCredit({ slots: 10, outstanding: 3 }, 1000)).toBe(7);
    expect(workCredit({ slots: 5000, outstanding: 0 }, 1000)).toBe(1000);
  });
  it("sends nothing when the client's hands are full (or over-full)", () => {
    expect(workCredit({ slots: 4, outstanding: 4 }, 1000)).toBe(0);
    expect(workCredit({ slots: 4, outstanding: 6 }, 1000)).toBe(0);
  });
});

describe("parseWorkSlots", () => {
  for (const bad of [0, -1, 1.5, 10_001, Number.NaN]) {
    it(`rejects ${bad}`, () => expect(parseWorkSlots(bad)).toBeUndefined());
  }
  it("accepts 1 and 10000", () => {
    expect(parseWorkSlots(1)).toBe(1);
    expect(parseWorkSlots(10_000)).toBe(10_000);
  });
});
