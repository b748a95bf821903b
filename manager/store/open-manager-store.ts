import { join } from "node:path";
import type { Logger } from "pino";
import type { StoreHealth } from "../../core/store-health.js";
import { openGuarded } from "../../sqlite/guard-store.js";
import { openSqliteStore } from "./sqlite/sqlite-store.js";
import type { ManagerStore } from "./store.js";
import { parseManagerStoreUrl } from "./store-url.js";

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

/** Options of {@link openManagerStore}. */
export interface OpenManagerStoreOptions {
  /** `sqlite` (default), see `parseManagerStoreUrl`. */
  store?: string;
  /** The data folder (SQLite keeps `manager.sqlite` in it). */
  dataDir: string;
  /** Fed with every storage failure and every successful write (`/healthz`). */
  health: StoreHealth;
  /** Logs storage failures and recoveries. */
  log: Logger;
  /** Uniform draws in [0, 1) for adaptive replication and canary mixing. Default Math.random. */
  random?: () => number;
}

/**
 * Opens the manager's store named by `store`, guarded by `guardStore`: storage failures surface as
 * `StoreFullError` / `StoreUnavailableError` and feed `health` (the manager's `/healthz`). A storage
 * failure while opening throws the same domain errors; a `store` naming no built backend throws a
 * `TypeError` (see `parseManagerStoreUrl`). The one place that knows which engines exist.
 */
export async function openManagerStore(options: OpenManagerStoreOptions): Promise<ManagerStore> {
  const location = parseManagerStoreUrl(options.store ?? "sqlite");
  const guard = { writes: MANAGER_STORE_WRITES, health: options.health, log: options.log };
  switch (location.kind) {
    case "sqlite":
      return openGuarded(() => openSqliteStore({ path: join(options.dataDir, "manager.sqlite"), random: options.random }), guard);
  }
}
