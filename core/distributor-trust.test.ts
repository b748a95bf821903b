import { describe, expect, it } from "vitest";
import { distributorWeight, vouchedTrust } from "./distributor-trust.js";

describe("distributorWeight", () => {
  const cases: Array<[validated: number, wrong: number, want: number]> = [
    [0, 0, 1],
    [1000, 0, 1],
    [0, 10, 0.5],
    [90, 100, 0.5],
    [990, 0, 1],
    [0, 990, 0.01],
  ];
  for (const [validated, wrong, want] of cases) {
    it(`${validated} validated, ${wrong} wrong → ${want}`, () => expect(distributorWeight({ validated, wrong })).toBeCloseTo(want, 10));
  }
  it("falls as its clients keep lying", () => {
    const weights = [0, 10, 100, 1000].map((wrong) => distributorWeight({ validated: 100, wrong }));
    expect(weights).toEqual([...weights].sort((a, b) => b - a));
    expect(weights[3]).toBeLessThan(0.1);
  });
});

describe("vouchedTrust", () => {
  it("weighs a client's trust by its distributor's weight, rounded down", () => {
    expect(vouchedTrust(40, 1)).toBe(40);
    expect(vouchedTrust(40, 0.5)).toBe(20);
    expect(vouchedTrust(19, 0.5)).toBe(9);
    expect(vouchedTrust(1000, 0)).toBe(0);
  });
});
