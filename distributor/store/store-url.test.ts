import { describe, expect, it } from "vitest";
import { parseStoreUrl } from "./store-url.js";

describe("parseStoreUrl", () => {
  it("takes sqlite and Redis URLs", () => {
    expect(parseStoreUrl("sqlite")).toEqual({ kind: "sqlite" });
    expect(parseStoreUrl("redis://127.0.0.1:6379/2")).toEqual({ kind: "redis", url: "redis://127.0.0.1:6379/2" });
    expect(parseStoreUrl("rediss://u:p@cache.example:6380")).toEqual({ kind: "redis", url: "rediss://u:p@cache.example:6380" });
  });
  const bad: Array<[string, RegExp]> = [
    ["", /expected "sqlite"/],
    ["postgres://db/x", /unsupported backend "postgres"/],
    ["mongodb://db/x", /unsupported backend "mongodb"/],
    ["redis://127.0.0.1/zero", /database must be a number/],
    ["redis:///0", /names no host/],
    ["SQLite", /expected "sqlite"/],
  ];
  for (const [value, message] of bad) {
    it(`refuses ${JSON.stringify(value)}`, () => expect(() => parseStoreUrl(value)).toThrow(message));
  }
});
