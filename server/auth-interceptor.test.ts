import { describe, expect, it } from "vitest";
import { bearerToken } from "./auth-interceptor.js";

describe("bearerToken", () => {
  const cases: [string | null, string | undefined][] = [
    [null, undefined],
    ["", undefined],
    ["Bearer abc", "abc"],
    ["bearer abc", "abc"],
    ["BEARER  abc ", "abc"],
    ["Bearer ", undefined],
    ["Basic abc", undefined],
    ["Bearerabc", undefined],
  ];
  for (const [header, want] of cases) {
    it(`${JSON.stringify(header)} → ${JSON.stringify(want)}`, () => {
      expect(bearerToken(header)).toBe(want);
    });
  }
});
