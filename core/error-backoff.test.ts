import { describe, expect, it } from "vitest";
import { ERROR_STREAK_LIMIT, errorBackoff } from "./error-backoff.js";

describe("errorBackoff", () => {
  const noJitter = () => 0;

  it("serves a client normally below the streak limit or when nobody else succeeds", () => {
    const cases = [
      { errorStreak: 0, othersSucceeding: true },
      { errorStreak: ERROR_STREAK_LIMIT - 1, othersSucceeding: true },
      { errorStreak: 1_000, othersSucceeding: false },
    ];
    for (const input of cases) expect(errorBackoff(input, noJitter), JSON.stringify(input)).toBeUndefined();
  });

  it("holds a client back to one task, pausing longer with every further error, up to 30 s", () => {
    const at = (streak: number) => errorBackoff({ errorStreak: streak, othersSucceeding: true }, noJitter);
    expect(at(ERROR_STREAK_LIMIT)).toEqual({ credit: 1, delayMs: 1_000 });
    expect(at(ERROR_STREAK_LIMIT + 1)).toEqual({ credit: 1, delayMs: 2_000 });
    expect(at(ERROR_STREAK_LIMIT + 3)).toEqual({ credit: 1, delayMs: 8_000 });
    expect(at(ERROR_STREAK_LIMIT + 50)).toEqual({ credit: 1, delayMs: 30_000 });
  });
});
