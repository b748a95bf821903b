/** What {@link dispatchCount} looks at for one runner. */
export interface DispatchInput {
  /** Tasks this runner holds (sent, no result yet). */
  outstanding: number;
  /** Tasks waiting in the primary. */
  queued: number;
  /** Tasks all runners hold together. */
  totalOutstanding: number;
  /** Runners alive and ready. */
  runners: number;
  /** Never hand one runner more than this. */
  maxDepth: number;
}

/**
 * How many queued tasks to send one runner now. Each runner's share is the work in hand split evenly
 * (at least 2, so a runner never waits for its next task, at most `maxDepth`); a runner is topped up
 * only once it has worked down to half its share, so tasks travel in batches rather than one IPC
 * message per unit.
 */
export function dispatchCount(input: DispatchInput): number {
  if (input.queued === 0 || input.runners === 0) return 0;
  const share = Math.min(input.maxDepth, Math.max(2, Math.ceil((input.queued + input.totalOutstanding) / input.runners)));
  if (input.outstanding > share / 2) return 0;
  return Math.min(input.queued, share - input.outstanding);
}
