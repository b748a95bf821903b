import { describe, expect, it } from "vitest";
import { backoffDelayMs } from "./backoff.js";

describe("backoffDelayMs", () => {
  const policy = { initialMs: 100, maxMs: 1_000, multiplier: 2, jitter: 0.5 };
  it("grows exponentially without jitter at random 0", () => {
    expect([0, 1, 2, 3].map((attempt) => backoffDelayMs(attempt, policy, () => 0))).toEqual([100, 200, 400, 800]);
  });
  it("is capped at maxMs", () => expect(backoffDelayMs(10, policy, () => 0)).toBe(1_000));
  it("takes off at most the jitter fraction", () => expect(backoffDelayMs(1, policy, () => 1)).toBe(100));
});
