import { describe, expect, it } from "vitest";
import { canaryMix, canaryVerdict, ordinaryRoom } from "./canary-mix.js";

/** Draws the given values in order. */
function draws(...values: number[]): () => number {
  let i = 0;
  return () => values[i++]!;
}

describe("canaryMix", () => {
  it("mixes one canary per leased copy whose draw falls below the rate", () => {
    expect(canaryMix(4, 0.25, draws(0.1, 0.3, 0.24, 0.9))).toBe(2);
  });
  it("mixes none at rate 0, whatever the draws", () => {
    expect(canaryMix(5, 0, () => 0)).toBe(0);
  });
  it("mixes none into an empty lease", () => {
    expect(canaryMix(0, 1, () => 0)).toBe(0);
  });
  it("mixes one per copy at rate 1", () => {
    expect(canaryMix(3, 1, () => 0.999)).toBe(3);
  });
  it("mixes roughly the rate over many copies", () => {
    let seed = 1;
    const lcg = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const n = canaryMix(10_000, 0.1, lcg);
    expect(n).toBeGreaterThan(900);
    expect(n).toBeLessThan(1100);
  });
});

describe("canaryVerdict", () => {
  it("validates the expected hash", () => expect(canaryVerdict("ok", "h", "h", false)).toBe("validated"));
  it("validates the expected hash on a project with a validator", () => expect(canaryVerdict("ok", "h", "h", true)).toBe("validated"));
  it("finds any other output wrong", () => expect(canaryVerdict("ok", "x", "h", false)).toBe("wrong"));
  it("judges no other output on a project with a validator", () => expect(canaryVerdict("ok", "x", "h", true)).toBe("none"));
  it("tells nothing from an error", () => expect(canaryVerdict("error", undefined, "h", false)).toBe("none"));
  it("tells nothing from an invalid output", () => expect(canaryVerdict("invalid", "x", "h", false)).toBe("none"));
});

describe("ordinaryRoom", () => {
  it("gives the whole room without canaries", () => expect(ordinaryRoom(10, 0)).toBe(10));
  it("leaves half the room at one canary per copy", () => expect(ordinaryRoom(10, 1)).toBe(5));
  it("leaves room for the canaries at a low rate", () => expect(ordinaryRoom(10, 0.1)).toBe(9));
  it("keeps one ordinary copy in a lease of one", () => expect(ordinaryRoom(1, 1)).toBe(1));
});
