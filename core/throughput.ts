/** One reading of a monotonically growing count (units finished). */
export interface CountSample {
  /** When it was read, epoch ms. */
  atMs: number;
  /** The count. */
  count: number;
}

/** Window over which throughput is measured: the last minute. */
export const THROUGHPUT_WINDOW_MS = 60_000;

/**
 * After this long without a unit finishing, the rate is 0 (and the ETA unknown): a grid whose
 * workers stopped must not keep showing the last minute's rate.
 */
export const THROUGHPUT_STALL_MS = 15_000;

/** When the count last grew (the sample that first showed the newest count), or undefined. */
export function lastGrowthMs(samples: readonly CountSample[]): number | undefined {
  const newest = samples[samples.length - 1];
  if (newest === undefined) return undefined;
  let i = samples.length - 1;
  while (i > 0 && samples[i - 1]!.count === newest.count) i--;
  return i === 0 ? undefined : samples[i]!.atMs;
}

/**
 * Units per second over the last `windowMs`, from samples oldest first: the growth between the
 * oldest sample inside the window (the last one before it when only the newest is inside) and the newest, over the time between
 * them. Zero with fewer than two samples, no elapsed time, or no growth for
 * {@link THROUGHPUT_STALL_MS}; never negative (a requeue can shrink
 * the count).
 */
export function throughputPerSecond(samples: readonly CountSample[], nowMs: number, windowMs = THROUGHPUT_WINDOW_MS): number {
  const newest = samples[samples.length - 1];
  if (newest === undefined) return 0;
  const grew = lastGrowthMs(samples);
  if (grew === undefined || grew < nowMs - THROUGHPUT_STALL_MS) return 0;
  const firstInside = samples.findIndex((sample) => sample.atMs >= nowMs - windowMs);
  const oldest = firstInside > 0 && firstInside === samples.length - 1 ? samples[firstInside - 1] : samples[Math.max(0, firstInside)];
  if (oldest === undefined || newest.atMs <= oldest.atMs) return 0;
  return Math.max(0, ((newest.count - oldest.count) * 1000) / (newest.atMs - oldest.atMs));
}

/** Time left for `remaining` units at `perSecond`, ms; undefined when the rate is zero. */
export function etaMs(remaining: number, perSecond: number): number | undefined {
  if (remaining <= 0) return 0;
  if (perSecond <= 0) return undefined;
  return Math.round((remaining / perSecond) * 1000);
}
