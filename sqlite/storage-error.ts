import Database from "better-sqlite3";
import { StoreFullError, StoreUnavailableError, type StoreError } from "../core/errors.js";

/** Result codes (extended ones included, e.g. `SQLITE_IOERR_WRITE`) of failures that may heal on their own. */
const UNAVAILABLE = /^SQLITE_(IOERR|BUSY|LOCKED|READONLY|CANTOPEN|PROTOCOL)(_[A-Z_]+)?$/;

/**
 * The domain error of a better-sqlite3 failure that is the storage's fault rather than ours:
 * `SQLITE_FULL` (the disk, or the database's page limit, is full) → {@link StoreFullError};
 * an I/O error, a busy or locked database, a read-only or unopenable file → {@link StoreUnavailableError}.
 * Undefined for anything else (a constraint, a misuse, a corrupt file: bugs or damage that
 * retrying will not fix, left to surface as internal errors). The one classification of SQLite
 * errors, used by both parts' store guards.
 */
export function storageErrorOf(error: unknown): StoreError | undefined {
  if (!(error instanceof Database.SqliteError)) return undefined;
  if (error.code === "SQLITE_FULL") return new StoreFullError(error.message, { cause: error });
  if (UNAVAILABLE.test(error.code)) return new StoreUnavailableError(error.message, { cause: error });
  return undefined;
}
