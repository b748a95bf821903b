import type { Logger } from "pino";
import type { StoreHealth } from "../../core/store-health.js";
import { openGuarded } from "../../sqlite/guard-store.js";
import { openSqliteStore } from "./sqlite/sqlite-store.js";
import type { ManagerStore } from "./store.js";

/**
 * The operations that write on every successful call, so their success proves the store takes
 * writes again. Left out are those that may commit nothing: the sweeper's (nothing expired), a
 * Lease with no work, a Report of duplicates, putProgram of a known program, releases of nothing.
 * A distributor's heartbeat (every few seconds) is the usual first proof after a full disk.
 */
const MANAGER_STORE_WRITES = [
  "createProject",
  "updateProject",
  "deleteProject",
  "addUnits",
  "createDistributor",
  "registerDistributor",
  "heartbeat",
  "revokeDistributor",
  "drainDistributor",
] as const satisfies ReadonlyArray<keyof ManagerStore>;

/**
 * Opens the manager's store (SQLite at `path`) guarded by {@link guardStore}: storage failures
 * surface as `StoreFullError` / `StoreUnavailableError` and feed `health` (the manager's
 * `/healthz`). A storage failure while opening throws the same domain errors.
 */
export function openManagerStore(options: { path: string; health: StoreHealth; log: Logger }): ManagerStore {
  return openGuarded(() => openSqliteStore({ path: options.path }), { writes: MANAGER_STORE_WRITES, health: options.health, log: options.log });
}
