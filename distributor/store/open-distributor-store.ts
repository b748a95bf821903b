import type { Logger } from "pino";
import type { StoreHealth } from "../../core/store-health.js";
import { openGuarded } from "../../sqlite/guard-store.js";
import { openSqliteStore } from "./sqlite/sqlite-store.js";
import type { DistributorStore } from "./store.js";

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

/**
 * Opens the distributor's store (SQLite at `path`) guarded by {@link guardStore}: storage failures
 * surface as `StoreFullError` / `StoreUnavailableError` and feed `health` (the distributor's
 * `/healthz`). A storage failure while opening throws the same domain errors.
 */
export function openDistributorStore(options: { path: string; health: StoreHealth; log: Logger }): DistributorStore {
  return openGuarded(() => openSqliteStore({ path: options.path }), { writes: DISTRIBUTOR_STORE_WRITES, health: options.health, log: options.log });
}
