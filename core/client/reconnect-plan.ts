import { Code } from "@connectrpc/connect";

/** What to do after the Work stream or Join failed. */
export interface ReconnectPlan {
  /** Drop the session and Join again (through the first distributor URL, which may redirect). */
  rejoin: boolean;
  /** Give up: the failure will not heal by retrying (e.g. the pinned trust key does not match). */
  fatal: boolean;
}

/** Consecutive failed reconnects to one session after which the client joins afresh. */
export const REJOIN_AFTER_FAILURES = 3;

/**
 * Decides how to reconnect after a failure with Connect `code`, the `failures` in a row so far
 * (1 for the first) and whether the failure is a trust-key mismatch. A rejected session
 * (Unauthenticated, e.g. the distributor lost its secret) and repeated failures re-join; anything
 * else reopens the stream on the same session, so tasks in hand stay reportable. ResourceExhausted
 * (e.g. the distributor's store is full) never re-joins: the distributor answered and knows the
 * session, so joining again cannot help; the growing backoff is all it needs.
 */
export function reconnectPlan(code: Code, failures: number, trustMismatch: boolean): ReconnectPlan {
  if (trustMismatch) return { rejoin: false, fatal: true };
  const repeated = failures >= REJOIN_AFTER_FAILURES && code !== Code.ResourceExhausted;
  const rejoin = code === Code.Unauthenticated || code === Code.PermissionDenied || repeated;
  return { rejoin, fatal: false };
}
