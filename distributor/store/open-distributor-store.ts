import { join } from "node:path";
import type { Logger } from "pino";
import type { StoreHealth } from "../../core/store-health.js";
import { guardStore, openGuarded } from "../../sqlite/guard-store.js";
import { redisErrorOf } from "./redis/redis-error-of.js";
import { openRedisStore } from "./redis/redis-store.js";
import { openSqliteStore } from "./sqlite/sqlite-store.js";
import type { DistributorStore } from "./store.js";
import { parseStoreUrl } from "./store-url.js";

/**
 * The operations that write on every call they are given (the distributor calls them only with
 * something to write), so their success proves the store takes writes again. Left out are those
 * that may commit nothing: a takeReady with no ready copy, drops, renewals and prunes of nothing.
 */
const DISTRIBUTOR_STORE_WRITES = [
  "addLeased",
  "storeResults",
  "ackResults",
  "saveRegistration",
  "putProgram",
] as const satisfies ReadonlyArray<keyof DistributorStore>;

/** Options of {@link openDistributorStore}. */
export interface OpenDistributorStoreOptions {
  /** `sqlite` or a Redis URL (see `parseStoreUrl`). */
  store: string;
  /** The data folder (SQLite keeps `distributor.sqlite` in it). */
  dataDir: string;
  /** Key prefix of a Redis store (processes sharing it form a pool). Default `disio:`. */
  redisPrefix?: string;
  /** Acknowledge results only once Redis fsynced them (see `RedisStoreOptions.waitAof`). Default false. */
  redisWaitAof?: boolean;
  /** This process's stable name in a Redis pool, e.g. `host:port` (see `RedisStoreOptions.instance`). */
  instance?: string;
  /** Fed with every storage failure and every successful write (`/healthz`). */
  health: StoreHealth;
  /** Logs storage failures and recoveries. */
  log: Logger;
}

/**
 * Opens the distributor's store named by `store`, guarded by `guardStore`: storage failures surface
 * as `StoreFullError` / `StoreUnavailableError` (SQLite's disk full or I/O errors; Redis out of
 * memory or unreachable) and feed `health`. A storage failure while opening throws the same domain
 * errors. The one place that knows which engines exist.
 */
export async function openDistributorStore(options: OpenDistributorStoreOptions): Promise<DistributorStore> {
  const location = parseStoreUrl(options.store);
  const guard = { writes: DISTRIBUTOR_STORE_WRITES, health: options.health, log: options.log };
  if (location.kind === "sqlite") return openGuarded(() => openSqliteStore({ path: join(options.dataDir, "distributor.sqlite") }), guard);
  let store: DistributorStore;
  try {
    store = await openRedisStore({ url: location.url, prefix: options.redisPrefix, waitAof: options.redisWaitAof, instance: options.instance, log: options.log });
  } catch (error) {
    throw redisErrorOf(error) ?? error;
  }
  return guardStore(store, { ...guard, errorOf: redisErrorOf });
}
