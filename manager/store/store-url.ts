/** Which backend a manager's `--store` value names. */
export type ManagerStoreLocation = { kind: "sqlite" };

/** The `--store` values a manager takes, for messages and help. */
export const MANAGER_STORES = "sqlite";

/** A manager's `--store` when none is given: the embedded store, in the data folder. */
export const DEFAULT_MANAGER_STORE = "sqlite";

/**
 * Parses a manager's `--store`: `sqlite` (the data folder's `manager.sqlite`). A MongoDB URL
 * (`mongodb://`, `mongodb+srv://`) names a backend not built yet; it and anything else throw a
 * `TypeError` with one line that says so and lists what is supported.
 */
export function parseManagerStoreUrl(value: string): ManagerStoreLocation {
  if (value === "sqlite") return { kind: "sqlite" };
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1]?.toLowerCase();
  if (scheme === "mongodb" || scheme === "mongodb+srv") {
    throw new TypeError(`store: the MongoDB manager store is not built yet (supported: ${MANAGER_STORES})`);
  }
  const named = scheme === undefined ? JSON.stringify(value) : `backend ${JSON.stringify(scheme)}`;
  throw new TypeError(`store: unsupported ${named} (supported: ${MANAGER_STORES})`);
}
