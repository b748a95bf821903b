/** What one timed run of a system delivered. */
export interface TallyReport {
  /** Jobs added. */
  jobs: number;
  /** Distinct jobs whose result the submitter received. */
  completed: number;
  /** Results received beyond the first of their job. */
  duplicates: number;
  /** Results whose output was not the job's input (the trivial job echoes it). */
  wrongOutputs: number;
  /** From the first add to the last result, seconds. */
  seconds: number;
  /** completed / seconds. */
  jobsPerSecond: number;
  /** Seconds until the last add was acknowledged. */
  addSeconds: number;
  /** Latency from a job's add call to its result at the submitter, ms. */
  latencyMs: { p50: number; p99: number; max: number };
}

/**
 * Counts the results of jobs 0..n-1 as the submitter receives them: distinct jobs, duplicates,
 * wrong outputs, and each job's latency from the moment its batch's add call was issued.
 */
export class JobTally {
  private readonly addedAt: Float64Array;
  private readonly doneAt: Float64Array;
  private firstAdd = Number.NaN;
  private lastAddAcked = Number.NaN;
  private lastResult = Number.NaN;
  private completed = 0;
  private duplicates = 0;
  private wrongOutputs = 0;
  private resolveAll!: () => void;
  /** Resolves once every job has a result. */
  readonly allDone: Promise<void>;

  /** Tallies `jobs` jobs numbered 0..jobs-1. */
  constructor(readonly jobs: number) {
    this.addedAt = new Float64Array(jobs).fill(Number.NaN);
    this.doneAt = new Float64Array(jobs).fill(Number.NaN);
    this.allDone = new Promise((resolve) => (this.resolveAll = resolve));
  }

  /** Jobs [from, to) are being added now. */
  adding(from: number, to: number): void {
    const now = performance.now();
    if (Number.isNaN(this.firstAdd)) this.firstAdd = now;
    this.addedAt.fill(now, from, to);
  }

  /** The add of a batch was acknowledged. */
  added(): void {
    this.lastAddAcked = performance.now();
  }

  /** A result for job `index` arrived; `echoed` says whether its output equals its input. */
  result(index: number, echoed: boolean): void {
    if (!echoed) this.wrongOutputs += 1;
    if (!(index >= 0 && index < this.jobs)) return;
    if (!Number.isNaN(this.doneAt[index]!)) {
      this.duplicates += 1;
      return;
    }
    const now = performance.now();
    this.doneAt[index] = now;
    this.lastResult = now;
    this.completed += 1;
    if (this.completed === this.jobs) this.resolveAll();
  }

  /** Jobs with a result so far. */
  get done(): number {
    return this.completed;
  }

  /** The figures of the run so far. */
  report(): TallyReport {
    const latencies: number[] = [];
    for (let k = 0; k < this.jobs; k++) if (!Number.isNaN(this.doneAt[k]!)) latencies.push(this.doneAt[k]! - this.addedAt[k]!);
    latencies.sort((a, b) => a - b);
    const seconds = (this.lastResult - this.firstAdd) / 1000;
    return {
      jobs: this.jobs,
      completed: this.completed,
      duplicates: this.duplicates,
      wrongOutputs: this.wrongOutputs,
      seconds: round(seconds, 2),
      jobsPerSecond: Math.round(this.completed / seconds),
      addSeconds: round((this.lastAddAcked - this.firstAdd) / 1000, 2),
      latencyMs: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: Math.round(latencies.at(-1) ?? Number.NaN) },
    };
  }
}

/** The p-quantile (0..1) of sorted values, nearest rank, rounded to 0.1 ms. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return round(sorted[rank]!, 1);
}

function round(x: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(x * scale) / scale;
}
