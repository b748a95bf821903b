import { setTimeout as sleep } from "node:timers/promises";
import type { JobTally } from "./job-tally.js";

/**
 * Adds jobs 0..tally.jobs-1 in batches of `batchSize`, one call in flight: as fast as the system
 * accepts them, or at `ratePerSecond` jobs/s (each batch issued on schedule, or at once when late).
 * `add(from, to)` adds jobs [from, to) and resolves when the system acknowledged them.
 */
export async function submitBatches(tally: JobTally, batchSize: number, add: (from: number, to: number) => Promise<void>, ratePerSecond?: number): Promise<void> {
  const started = performance.now();
  for (let from = 0; from < tally.jobs; from += batchSize) {
    if (ratePerSecond !== undefined) {
      const due = started + (from / ratePerSecond) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
    }
    const to = Math.min(tally.jobs, from + batchSize);
    tally.adding(from, to);
    await add(from, to);
    tally.added();
  }
}
