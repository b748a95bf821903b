import { describe, expect, it } from "vitest";
import { acceptsAlone, ADAPTIVE_MIN_REPLICATE, ADAPTIVE_MIN_TRUST, replicateProbability } from "./adaptive-replication.js";

describe("replicateProbability", () => {
  const cases: Array<[trust: number, want: number]> = [
    [0, 1],
    [ADAPTIVE_MIN_TRUST - 1, 1],
    [ADAPTIVE_MIN_TRUST, 1],
    [20, 0.5],
    [100, 0.1],
    [10_000, ADAPTIVE_MIN_REPLICATE],
  ];
  for (const [trust, want] of cases) it(`trust ${trust} → ${want}`, () => expect(replicateProbability(trust)).toBe(want));
});

describe("acceptsAlone", () => {
  const cases: Array<[adaptive: boolean, keyed: boolean, trust: number, random: number, want: boolean]> = [
    [false, true, 1000, 0.99, false],
    [true, false, 1000, 0.99, false],
    [true, true, 0, 0.99, false],
    [true, true, 9, 0.999, false],
    [true, true, 20, 0.49, false],
    [true, true, 20, 0.5, true],
    [true, true, 100, 0.1, true],
    [true, true, 100, 0.09, false],
  ];
  for (const [adaptive, keyed, trust, random, want] of cases) {
    it(`adaptive ${adaptive}, keyed ${keyed}, trust ${trust}, draw ${random} → ${want}`, () => expect(acceptsAlone({ adaptive, keyed, trust, random })).toBe(want));
  }
});
