import { describe, expect, it } from "vitest";
import { parseManagerStoreUrl } from "./store-url.js";

describe("parseManagerStoreUrl", () => {
  it("takes sqlite", () => {
    expect(parseManagerStoreUrl("sqlite")).toEqual({ kind: "sqlite" });
  });

  it("says a MongoDB URL names a store not built yet, in one line", () => {
    for (const url of ["mongodb://localhost:27017/disio", "mongodb+srv://cluster.example.net/disio"]) {
      expect(() => parseManagerStoreUrl(url)).toThrow(/^store: the MongoDB manager store is not built yet \(supported: sqlite\)$/);
    }
  });

  it("lists the supported stores for an unknown scheme or a bare word", () => {
    expect(() => parseManagerStoreUrl("postgres://db/x")).toThrow('store: unsupported backend "postgres" (supported: sqlite)');
    expect(() => parseManagerStoreUrl("sqlite3")).toThrow('store: unsupported "sqlite3" (supported: sqlite)');
  });
});
