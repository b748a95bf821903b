import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { describe, expect, it } from "vitest";
import { StoreFullError } from "../core/errors.js";
import { programHash, programSignatureMessage, verifyProgram } from "../core/program-signature.js";
import { ProgramCache } from "./program-cache.js";
import type { StoredProgram } from "./store/store.js";

const program: StoredProgram = { hash: "ab".repeat(32), source: "export default (x) => x", signature: new Uint8Array([1, 2, 3]) };

function keyPair(): { privateKey: KeyObject; publicKey: Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  // The raw key is the last 32 bytes of the SPKI DER.
  return { privateKey, publicKey: new Uint8Array(publicKey.export({ type: "spki", format: "der" }).subarray(-32)) };
}

async function signed(source: string, privateKey: KeyObject): Promise<StoredProgram> {
  const hash = await programHash(source);
  return { hash, source, signature: new Uint8Array(sign(null, programSignatureMessage(hash), privateKey)) };
}

/** A store as the distributor's: first write wins. */
function memoryStore(initial: StoredProgram[] = []) {
  const programs = new Map(initial.map((p) => [p.hash, p]));
  return {
    programs,
    getProgram: async (hash: string) => programs.get(hash),
    putProgram: async (p: StoredProgram) => {
      if (!programs.has(p.hash)) programs.set(p.hash, p);
    },
  };
}

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

  it("re-fetches a program cached in memory or on disk with an old manager key once the key rotates", async () => {
    const oldKey = keyPair();
    const newKey = keyPair();
    const source = "export default (x) => x * 2";
    const old = await signed(source, oldKey.privateKey);
    const fresh = await signed(source, newKey.privateKey);
    let key = oldKey.publicKey;
    let fetches = 0;
    const store = memoryStore();
    const fetchProgram = async () => {
      fetches++;
      return key === oldKey.publicKey ? old : fresh;
    };
    const cache = new ProgramCache(store, fetchProgram, { managerKey: () => key });
    expect(await cache.get(old.hash)).toEqual(old);
    expect(await cache.get(old.hash)).toEqual(old);
    expect(fetches).toBe(1);

    key = newKey.publicKey; // a registration announced a rotated key
    const served = await cache.get(old.hash);
    expect(await verifyProgram(served, newKey.publicKey)).toBe(true);
    expect(fetches).toBe(2);
    await cache.get(old.hash);
    expect(fetches).toBe(2);

    // A restarted distributor whose store still holds the old signature fetches once too.
    const restarted = new ProgramCache(store, fetchProgram, { managerKey: () => key });
    expect(await verifyProgram(await restarted.get(old.hash), newKey.publicKey)).toBe(true);
    expect(fetches).toBe(3);
  });

  it("serves a stored program without asking the manager while no manager key is known yet", async () => {
    const cache = new ProgramCache(memoryStore([program]), async () => {
      throw new Error("manager unreachable");
    }, { managerKey: () => undefined });
    expect(await cache.get(program.hash)).toEqual(program);
  });
});
