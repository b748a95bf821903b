import { describe, expect, it } from "vitest";
import { copyVerdict, trustAfter, type CopyVerdict } from "./client-trust.js";

describe("copyVerdict", () => {
  const cases: Array<[hash: string, winning: string, verified: boolean, want: CopyVerdict]> = [
    ["a", "a", true, "validated"],
    ["b", "a", true, "wrong"],
    ["a", "a", false, "none"],
    ["b", "a", false, "none"],
  ];
  for (const [hash, winning, verified, want] of cases) {
    it(`${hash} vs ${winning}, verified ${verified} → ${want}`, () => expect(copyVerdict(hash, winning, verified)).toBe(want));
  }
});

describe("trustAfter", () => {
  const cases: Array<[trust: number, verdict: CopyVerdict, want: number]> = [
    [0, "validated", 1],
    [41, "validated", 42],
    [41, "wrong", 0],
    [0, "wrong", 0],
    [7, "none", 7],
  ];
  for (const [trust, verdict, want] of cases) {
    it(`${trust} after ${verdict} → ${want}`, () => expect(trustAfter(trust, verdict)).toBe(want));
  }
});
