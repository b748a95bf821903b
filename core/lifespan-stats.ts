/** Summary of client lifespans (join → last seen). */
export interface LifespanSummary {
  /** Clients measured. */
  clients: number;
  /** Middle of the fullest bucket, ms. */
  modeMs: number;
  /** Mean, ms. */
  meanMs: number;
  /** Median, ms. */
  medianMs: number;
  /** 90th percentile, ms. */
  p90Ms: number;
  /**
   * The histogram over {@link LIFESPAN_BUCKET_BOUNDS_MS}: one entry per bucket, shortest first, then
   * the open-ended one (`belowMs` undefined). A bucket holds lifespans from the previous bound
   * (inclusive, 0 for the first) to `belowMs` (exclusive).
   */
  buckets: { belowMs: number | undefined; clients: number }[];
}

/**
 * Upper bounds (ms) of the buckets the mode is taken over: roughly logarithmic, from seconds to a
 * day, since client stays span orders of magnitude.
 */
export const LIFESPAN_BUCKET_BOUNDS_MS: readonly number[] = [
  1_000, 5_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000, 7_200_000,
  21_600_000, 43_200_000, 86_400_000,
];

/**
 * Mode, mean, median, p90 and histogram of lifespans in ms (nearest-rank percentiles). The mode is the middle
 * of the fullest bucket of {@link LIFESPAN_BUCKET_BOUNDS_MS}; lifespans past the last bound fall in
 * an open bucket whose middle is taken as the mean of its members. Empty input gives all zeros.
 */
export function lifespanStats(lifespansMs: readonly number[]): LifespanSummary {
  const n = lifespansMs.length;
  const bounds = LIFESPAN_BUCKET_BOUNDS_MS;
  const counts = new Array<number>(bounds.length + 1).fill(0);
  const buckets = () => counts.map((clients, i) => ({ belowMs: bounds[i], clients }));
  if (n === 0) return { clients: 0, modeMs: 0, meanMs: 0, medianMs: 0, p90Ms: 0, buckets: buckets() };
  const sorted = lifespansMs.map((ms) => Math.max(0, ms)).sort((a, b) => a - b);
  const sum = sorted.reduce((acc, ms) => acc + ms, 0);
  const rank = (p: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))] ?? 0;
  let overflowSum = 0;
  for (const ms of sorted) {
    let bucket = bounds.findIndex((bound) => ms < bound);
    if (bucket === -1) {
      bucket = bounds.length;
      overflowSum += ms;
    }
    counts[bucket] = (counts[bucket] ?? 0) + 1;
  }
  let fullest = 0;
  for (let i = 1; i < counts.length; i++) if ((counts[i] ?? 0) > (counts[fullest] ?? 0)) fullest = i;
  const lower = fullest === 0 ? 0 : (bounds[fullest - 1] ?? 0);
  const modeMs =
    fullest === bounds.length ? overflowSum / (counts[fullest] ?? 1) : (lower + (bounds[fullest] ?? lower)) / 2;
  return { clients: n, modeMs, meanMs: sum / n, medianMs: rank(0.5), p90Ms: rank(0.9), buckets: buckets() };
}
