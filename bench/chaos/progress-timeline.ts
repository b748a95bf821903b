/** One reading of a project's done count. */
export interface ProgressSample {
  /** When it was read, ms on the run's clock. */
  atMs: number;
  /** Units done then. */
  done: number;
}

/**
 * The longest time with no new unit done, ms: the largest gap between two consecutive readings
 * where the count moved, from the first unit done to the last. Readings that failed (a manager down)
 * are simply missing, so an outage counts in full. 0 with fewer than two moves.
 */
export function longestStallMs(samples: readonly ProgressSample[]): number {
  let longest = 0;
  let lastMoveAt: number | undefined;
  let previous: number | undefined;
  for (const sample of samples) {
    if (previous !== undefined && sample.done > previous) {
      if (lastMoveAt !== undefined) longest = Math.max(longest, sample.atMs - lastMoveAt);
      lastMoveAt = sample.atMs;
    }
    previous = sample.done;
  }
  return longest;
}

/**
 * How long after `fromMs` the done count first moved past its last reading at or before `fromMs`,
 * ms; undefined when it never did (or nothing was read before `fromMs`).
 */
export function recoveryMs(samples: readonly ProgressSample[], fromMs: number): number | undefined {
  const before = samples.filter((sample) => sample.atMs <= fromMs).at(-1);
  if (before === undefined) return undefined;
  const moved = samples.find((sample) => sample.atMs > fromMs && sample.done > before.done);
  return moved === undefined ? undefined : moved.atMs - fromMs;
}
