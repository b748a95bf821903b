import { describe, expect, it } from "vitest";
import { IN_HAND_STRIKES, inHandCheck } from "./in-hand-check.js";

describe("inHandCheck", () => {
  it("never reopens while the distributor counts no more than the client holds", () => {
    let strikes = 0;
    for (const [counted, holding] of [[0, 0], [3, 3], [2, 5], [0, 9]] as const) {
      const next = inHandCheck(strikes, counted, holding);
      expect(next).toEqual({ strikes: 0, reopen: false });
      strikes = next.strikes;
    }
  });

  it(`reopens after ${IN_HAND_STRIKES} keep-alives in a row counting more, and a good one in between resets`, () => {
    expect(inHandCheck(0, 5, 0)).toEqual({ strikes: 1, reopen: false });
    expect(inHandCheck(1, 5, 5)).toEqual({ strikes: 0, reopen: false });
    expect(inHandCheck(1, 5, 0)).toEqual({ strikes: 0, reopen: true });
  });
});
