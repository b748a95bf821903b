import { StoreFullError, StoreUnavailableError, type StoreError } from "../../../core/errors.js";

/** Error replies of a Redis that cannot take the command now but may later. */
const UNAVAILABLE_REPLY = /^(LOADING|READONLY|MASTERDOWN|BUSY|MISCONF|TRYAGAIN|CLUSTERDOWN|NOREPLICAS)\b/;
/** Socket-level failures (Redis down, restarting, unreachable). */
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH", "ECONNABORTED"]);
/** ioredis's own messages when a command cannot reach Redis. */
const CONNECTION_MESSAGE = /^(Connection is closed|Stream isn't writeable|Reached the max retries per request limit)/;

/**
 * The domain error of a Redis failure that is the storage's fault rather than ours: out of memory
 * (`OOM`, `maxmemory` reached with no eviction) → {@link StoreFullError}; Redis unreachable,
 * restarting, loading its data, read-only, or unable to persist (`MISCONF`) →
 * {@link StoreUnavailableError}. Undefined for anything else (a script bug, a wrong type: left to
 * surface as internal errors). The Redis counterpart of SQLite's `storageErrorOf`, used by the
 * distributor's store guard.
 */
export function redisErrorOf(error: unknown): StoreError | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (error.message.startsWith("OOM")) return new StoreFullError(error.message, { cause: error });
  if (UNAVAILABLE_REPLY.test(error.message)) return new StoreUnavailableError(error.message, { cause: error });
  if (typeof code === "string" && NETWORK_CODES.has(code)) return new StoreUnavailableError(`redis unreachable: ${error.message}`, { cause: error });
  if (error.name === "MaxRetriesPerRequestError" || CONNECTION_MESSAGE.test(error.message)) {
    return new StoreUnavailableError(`redis unreachable: ${error.message}`, { cause: error });
  }
  return undefined;
}
