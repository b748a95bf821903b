/** Settings of {@link backoffDelayMs}. */
export interface BackoffPolicy {
  /** Delay before the first retry. */
  initialMs: number;
  /** Upper bound of any delay. */
  maxMs: number;
  /** Growth per attempt. */
  multiplier: number;
  /** Fraction of the delay randomised away (0 = none, 0.5 = up to half), so retries spread out. */
  jitter: number;
}

/** Reconnect policy used by distributors (to managers) and clients (to distributors). */
export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 200, maxMs: 5_000, multiplier: 2, jitter: 0.3 };

/**
 * How long to wait before retry number `attempt` (0 for the first retry): exponential, capped, with
 * jitter. `random` is injectable so the decision is a pure function in tests.
 */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const raw = Math.min(policy.maxMs, policy.initialMs * policy.multiplier ** Math.max(0, attempt));
  return Math.round(raw * (1 - policy.jitter * random()));
}
