/** Settings of {@link reportFlushDelay}. */
export interface ReportFlushPolicy {
  /** Flush as soon as this many results wait. */
  maxBatch: number;
  /** Flush at the latest this long after the oldest waiting result arrived. */
  maxDelayMs: number;
}

/** What the report loop knows when it decides. */
export interface ReportFlushState {
  /** Results waiting to be reported. */
  pending: number;
  /** When the oldest waiting result arrived (ms clock), undefined when none waits. */
  oldestAtMs: number | undefined;
  /** Whether no further Report call may start now (as many on the wire as allowed): the next batch forms meanwhile. */
  inFlight: boolean;
  /** Set while stopping: everything waiting goes out without delay. */
  draining: boolean;
}

/**
 * When to send the next Report: `0` now, a positive delay in ms, or `undefined` to wait for news
 * (nothing pending, or a call already in flight, whose completion re-runs the decision).
 * Results are batched so a fast worker never sends one Report per result.
 */
export function reportFlushDelay(state: ReportFlushState, nowMs: number, policy: ReportFlushPolicy): number | undefined {
  if (state.inFlight || state.pending === 0 || state.oldestAtMs === undefined) return undefined;
  if (state.draining || state.pending >= policy.maxBatch) return 0;
  return Math.max(0, state.oldestAtMs + policy.maxDelayMs - nowMs);
}
