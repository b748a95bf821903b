import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { StoreSchemaMismatchError } from "./script-error.js";
import { leasedCopy, storeConformance } from "../store-conformance.js";
import { RedisKeys } from "./redis-keys.js";
import { openRedisStore } from "./redis-store.js";
import { removeRedisKeys } from "./remove-redis-keys.js";

/** The Redis every test machine and CI runs. */
const REDIS_URL = "redis://127.0.0.1:6379/0";

function testPrefix(): string {
  return `disio-test:${randomUUID()}:`;
}

storeConformance("redis", {
  async create() {
    const prefix = testPrefix();
    const open = () => openRedisStore({ url: REDIS_URL, prefix });
    return {
      store: await open(),
      reopen: open,
      peer: open,
      cleanup: async () => {
        await removeRedisKeys(REDIS_URL, prefix);
      },
    };
  },
});

describe("redis store", () => {
  const prefixes: string[] = [];
  afterEach(async () => {
    for (const prefix of prefixes.splice(0)) await removeRedisKeys(REDIS_URL, prefix);
  });

  it("refuses --redis-wait-aof over a Redis that cannot fsync before acknowledging", async () => {
    const redis = new Redis(REDIS_URL);
    try {
      // The shared test Redis runs without AOF; a server that has it on is the restart test's.
      expect(await redis.config("GET", "appendonly")).toEqual(["appendonly", "no"]);
    } finally {
      redis.disconnect();
    }
    const prefix = testPrefix();
    prefixes.push(prefix);
    await expect(openRedisStore({ url: REDIS_URL, prefix, waitAof: true })).rejects.toThrow(/appendonly yes/);
  });

  it("hands back at once what a process gave when it restarts under the same name", async () => {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const killed = await openRedisStore({ url: REDIS_URL, prefix, instance: "edge:7200" });
    await killed.addLeased([leasedCopy(1), leasedCopy(2)]);
    await killed.takeReady({ clientId: "a", max: 2, nowMs: 1, clientDeadlineMs: Number.MAX_SAFE_INTEGER });
    const other = await openRedisStore({ url: REDIS_URL, prefix, instance: "edge:7201" });
    expect(await other.counts()).toMatchObject({ ready: 0, given: 2 });
    // The killed process never closed; its successor on the same port opens.
    const restarted = await openRedisStore({ url: REDIS_URL, prefix, instance: "edge:7200" });
    expect(await other.counts()).toMatchObject({ ready: 2, given: 0 });
    expect(await other.otherProcesses()).toBe(1);
    for (const store of [restarted, other, killed]) await store.close().catch(() => undefined);
  });

  it("refuses a store of another schema version, before and after open", async () => {
    const prefix = testPrefix();
    prefixes.push(prefix);
    const redis = new Redis(REDIS_URL);
    try {
      const store = await openRedisStore({ url: REDIS_URL, prefix });
      await redis.set(new RedisKeys(prefix).key("version"), "99");
      await expect(store.addLeased([])).resolves.toBe(0);
      await expect(store.requeueClient("a", ["c1"])).rejects.toBeInstanceOf(StoreSchemaMismatchError);
      await store.close().catch(() => undefined);
      await expect(openRedisStore({ url: REDIS_URL, prefix })).rejects.toThrow(/schema version 99/);
    } finally {
      redis.disconnect();
    }
  });
});
