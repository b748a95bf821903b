/** Minutes of history {@link MinuteCounts} keeps: the last hour. */
export const HISTORY_MINUTES = 60;
const MINUTE_MS = 60_000;

/** A run of per-minute counts: `counts[i]` happened in the minute starting at `startMs + i` minutes. */
export interface MinuteSeries {
  startMs: number;
  counts: number[];
}

/**
 * Counts per whole minute over the last {@link HISTORY_MINUTES} minutes, in a ring buffer: memory
 * stays fixed however long it runs, and minutes nothing was added in read as 0.
 */
export class MinuteCounts {
  readonly #counts = new Array<number>(HISTORY_MINUTES).fill(0);
  /** The minute (ms since the epoch / 60,000) each slot holds, or -1. */
  readonly #minutes = new Array<number>(HISTORY_MINUTES).fill(-1);

  /** Adds `n` to the minute holding `atMs`. */
  add(atMs: number, n: number): void {
    const minute = Math.floor(atMs / MINUTE_MS);
    const slot = minute % HISTORY_MINUTES;
    if (this.#minutes[slot] !== minute) {
      this.#minutes[slot] = minute;
      this.#counts[slot] = 0;
    }
    this.#counts[slot]! += n;
  }

  /** The last {@link HISTORY_MINUTES} minutes up to the one holding `nowMs` (last, partial), oldest first. */
  series(nowMs: number): MinuteSeries {
    const current = Math.floor(nowMs / MINUTE_MS);
    const first = current - HISTORY_MINUTES + 1;
    const counts: number[] = [];
    for (let minute = first; minute <= current; minute++) {
      const slot = minute % HISTORY_MINUTES;
      counts.push(this.#minutes[slot] === minute ? this.#counts[slot]! : 0);
    }
    return { startMs: first * MINUTE_MS, counts };
  }
}
