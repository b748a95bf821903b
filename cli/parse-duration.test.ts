import { describe, expect, it } from "vitest";
import { parseDurationMs } from "./parse-duration.js";

describe("parseDurationMs", () => {
  for (const [text, ms] of [["500ms", 500], ["60s", 60_000], ["5m", 300_000], ["2h", 7_200_000], ["1d", 86_400_000], ["90", 90_000], ["1.5s", 1_500]] as const) {
    it(`reads ${text}`, () => expect(parseDurationMs(text)).toBe(ms));
  }
  for (const text of ["", "abc", "-5s", "5 weeks", "5w"]) {
    it(`rejects ${JSON.stringify(text)}`, () => expect(() => parseDurationMs(text)).toThrow(TypeError));
  }
});
