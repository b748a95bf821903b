import type { Logger } from "pino";
import type { StoreError } from "../core/errors.js";
import type { StoreHealth } from "../core/store-health.js";
import { storageErrorOf } from "./storage-error.js";

/** Options of {@link guardStore}. */
export interface StoreGuardOptions<T> {
  /**
   * The operations whose success proves the store takes writes again: only those that always write
   * (an empty batch or a DELETE that matched nothing commits nothing, so it succeeds on a full disk).
   */
  writes: ReadonlyArray<keyof T & string>;
  /** Fed with every storage failure and every successful write. */
  health: StoreHealth;
  /** Logs when the store starts failing (error, once per streak and reason) and when it recovers (info). */
  log: Logger;
  /** Clock, epoch ms. Default `Date.now`. */
  now?: () => number;
  /** Which failures are the storage's, as domain errors. Default SQLite's {@link storageErrorOf}. */
  errorOf?: (error: unknown) => StoreError | undefined;
}

/**
 * Wraps every method of a store (SQLite-backed unless `errorOf` says otherwise) so that storage failures leave it as domain errors
 * ({@link storageErrorOf}: `StoreFullError` → ResourceExhausted, `StoreUnavailableError` →
 * Unavailable, mapped by the one error interceptor) instead of raw `SqliteError`s that callers see
 * as "internal error", and so that `health` knows whether the last write failed. Other errors pass
 * through untouched. The store implementation stays unaware of it; applied once, at open time.
 */
export function guardStore<T extends object>(store: T, options: StoreGuardOptions<T>): T {
  const { health, log } = options;
  const now = options.now ?? Date.now;
  const errorOf = options.errorOf ?? storageErrorOf;
  const writes = new Set<PropertyKey>(options.writes);
  const failed = (op: string, error: unknown): unknown => {
    const storeError = errorOf(error);
    if (storeError === undefined) return error;
    const change = health.failed(storeError.message, now());
    if (change !== undefined) log.error({ op, reason: change.reason, err: error }, "store failing");
    return storeError;
  };
  const succeeded = (op: string): void => {
    if (!writes.has(op)) return;
    const change = health.wrote(now());
    if (change?.kind === "recovered") log.info({ op, downMs: change.downMs, reason: change.reason }, "store takes writes again");
  };
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, key) {
      // The store itself as receiver: its methods and getters may use private fields.
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== "function") return value;
      let guarded = wrapped.get(key);
      if (guarded === undefined) {
        const op = String(key);
        guarded = (...args: unknown[]): unknown => {
          let result: unknown;
          try {
            result = value.apply(target, args);
          } catch (error) {
            throw failed(op, error);
          }
          if (!(result instanceof Promise)) {
            succeeded(op);
            return result;
          }
          return result.then(
            (resolved: unknown) => {
              succeeded(op);
              return resolved;
            },
            (error: unknown) => {
              throw failed(op, error);
            },
          );
        };
        wrapped.set(key, guarded);
      }
      return guarded;
    },
  });
}

/**
 * Opens a store with `open` and guards it with {@link guardStore}; a storage failure while opening
 * throws the same domain errors the guarded store does.
 */
export function openGuarded<T extends object>(open: () => T, options: StoreGuardOptions<T>): T {
  let store: T;
  try {
    store = open();
  } catch (error) {
    throw storageErrorOf(error) ?? error;
  }
  return guardStore(store, options);
}
