import { describe, expect, it } from "vitest";
import { utf8Size, utf8SizeJs } from "./sized-writer.js";

describe("utf8Size", () => {
  const cases = ["", "c1a2", "ab".repeat(32), "é", "€uro", "😀", "a😀b", "\ud800", "x\udc00y", "\ud83d", "mixé€😀\u07ff\u0800"];
  for (const value of cases) {
    it(`counts what TextEncoder writes, natively and in JS: ${JSON.stringify(value)}`, () => {
      const expected = new TextEncoder().encode(value).length;
      expect(utf8Size(value)).toBe(expected);
      expect(utf8SizeJs(value)).toBe(expected);
    });
  }
});
