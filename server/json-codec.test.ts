import { describe, expect, it } from "vitest";
import { usesJsonCodec } from "./json-codec.js";

describe("usesJsonCodec", () => {
  const cases: [string | undefined, boolean][] = [
    ["application/json", true],
    ["application/json; charset=utf-8", true],
    ["application/connect+json", true],
    ["application/grpc-web+json", true],
    ["Application/GRPC+JSON", true],
    ["application/proto", false],
    ["application/connect+proto", false],
    ["application/grpc", false],
    ["application/grpc+proto", false],
    ["application/grpc-web+proto", false],
    ["application/grpc-web-text", false],
    ["application/jsonx", false],
    [undefined, false],
  ];
  for (const [contentType, want] of cases) {
    it(`${String(contentType)} → ${want}`, () => {
      const header = new Headers(contentType === undefined ? {} : { "content-type": contentType });
      expect(usesJsonCodec(header)).toBe(want);
    });
  }
});
