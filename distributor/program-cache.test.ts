import { describe, expect, it } from "vitest";
import { StoreFullError } from "../core/errors.js";
import { ProgramCache } from "./program-cache.js";
import type { StoredProgram } from "./store/store.js";

const program: StoredProgram = { hash: "ab".repeat(32), source: "export default (x) => x", signature: new Uint8Array([1, 2, 3]) };

describe("ProgramCache", () => {
  it("serves a program fetched from the manager even when the store cannot cache it, and fetches it once", async () => {
    let fetches = 0;
    let puts = 0;
    const cache = new ProgramCache(
      {
        getProgram: async () => undefined,
        putProgram: async () => {
          puts++;
          throw new StoreFullError("database or disk is full");
        },
      },
      async (hash) => {
        fetches++;
        return hash === program.hash ? program : undefined;
      },
    );
    expect(await cache.get(program.hash)).toEqual(program);
    expect(await cache.get(program.hash)).toEqual(program);
    expect([fetches, puts]).toEqual([1, 1]);
  });
});
