import { Code, ConnectError } from "@connectrpc/connect";
import { backoffDelayMs, type BackoffPolicy } from "../core/backoff.js";

/** Codes worth another try: the manager was unreachable, or the call or its answer was lost on the way. */
const RETRYABLE_CODES: ReadonlySet<Code> = new Set([Code.Unavailable, Code.Aborted, Code.DeadlineExceeded, Code.Unknown, Code.Internal]);

/** Whether an RPC error may pass when the same call is sent again (never for a refused request). */
export function isRetryable(error: unknown): boolean {
  return RETRYABLE_CODES.has(ConnectError.from(error).code);
}

/** Options of {@link callWithRetries}. */
export interface RetryOptions {
  /** Tries after the first. */
  retries: number;
  /** Delays between tries. */
  backoff: BackoffPolicy;
  /** Waits `ms`. */
  sleep: (ms: number) => Promise<void>;
  /** Told before each retry. */
  onRetry?: (error: unknown, retry: number, delayMs: number) => void;
}

/**
 * Calls `call(attempt)` until it succeeds, retrying errors that {@link isRetryable} allows up to
 * `retries` times with backoff; throws the last error. Only for idempotent calls. Returns the value
 * and the attempt (0 for the first) that gave it.
 */
export async function callWithRetries<T>(call: (attempt: number) => Promise<T>, options: RetryOptions): Promise<{ value: T; attempt: number }> {
  for (let attempt = 0; ; attempt++) {
    try {
      return { value: await call(attempt), attempt };
    } catch (error) {
      if (attempt >= options.retries || !isRetryable(error)) throw error;
      const delayMs = backoffDelayMs(attempt, options.backoff);
      options.onRetry?.(error, attempt + 1, delayMs);
      await options.sleep(delayMs);
    }
  }
}
