import { describe, expect, it } from "vitest";
import { browserClientKey, CLIENT_KEY_ITEM } from "./client-key.js";
import { localStorageKeyMemory, TRUSTED_KEYS_ITEM } from "./local-storage-key-memory.js";

/** A Storage of a Map; `broken` makes every call throw, as blocked storage does. */
function fakeStorage(initial: Record<string, string> = {}, broken = false): Storage & { items: Map<string, string> } {
  const items = new Map(Object.entries(initial));
  const guard = () => {
    if (broken) throw new DOMException("blocked", "SecurityError");
  };
  return {
    items,
    get length() {
      return items.size;
    },
    clear: () => items.clear(),
    key: (index) => [...items.keys()][index] ?? null,
    getItem: (name) => (guard(), items.get(name) ?? null),
    setItem: (name, value) => (guard(), void items.set(name, value)),
    removeItem: (name) => void items.delete(name),
  };
}

describe("browserClientKey", () => {
  it("makes a 43-character base64url key once and keeps it", () => {
    const storage = fakeStorage();
    const key = browserClientKey(storage, (bytes) => bytes.fill(255));
    expect(key).toBe(`${"_".repeat(42)}8`);
    expect(storage.items.get(CLIENT_KEY_ITEM)).toBe(key);
    expect(browserClientKey(storage)).toBe(key);
  });

  it("replaces a stored value that is no client key, and lives without storage", () => {
    for (const bad of ["short", "x".repeat(129), "has space in it, sixteen+", "ünïcödé-ünïcödé-ünïcödé"]) {
      const storage = fakeStorage({ [CLIENT_KEY_ITEM]: bad });
      const key = browserClientKey(storage);
      expect(key).toMatch(/^[\w-]{43}$/);
      expect(storage.items.get(CLIENT_KEY_ITEM)).toBe(key);
    }
    expect(browserClientKey(fakeStorage({}, true))).toMatch(/^[\w-]{43}$/);
    expect(browserClientKey(undefined)).toMatch(/^[\w-]{43}$/);
  });
});

describe("localStorageKeyMemory", () => {
  const entry = { distributorUrl: "http://d:7200", groupId: "g", publicKey: "AAAA" };

  it("remembers keys per distributor URL across pages (one storage, two memories)", async () => {
    const storage = fakeStorage();
    await localStorageKeyMemory(storage).remember(entry);
    await localStorageKeyMemory(storage).remember({ ...entry, distributorUrl: "http://e:7200", publicKey: "BBBB" });
    const later = localStorageKeyMemory(storage);
    expect(await later.load()).toEqual([entry, { ...entry, distributorUrl: "http://e:7200", publicKey: "BBBB" }]);
    await later.remember({ ...entry, publicKey: "CCCC" });
    expect(JSON.parse(storage.items.get(TRUSTED_KEYS_ITEM)!)).toContainEqual({ ...entry, publicKey: "CCCC" });
  });

  it("reads damaged items as empty and keeps pins in memory when storage is blocked", async () => {
    for (const damaged of ["not json", "{}", JSON.stringify([{ distributorUrl: 1 }, null])]) {
      expect(await localStorageKeyMemory(fakeStorage({ [TRUSTED_KEYS_ITEM]: damaged })).load()).toEqual([]);
    }
    const blocked = localStorageKeyMemory(fakeStorage({}, true));
    await blocked.remember(entry);
    expect(await blocked.load()).toEqual([entry]);
  });
});
