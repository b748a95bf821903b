import type { TallyReport } from "./job-tally.js";

/** One timed run of one system. */
export interface SystemRun extends TallyReport {
  /** "bullmq", "disio", "ceiling". */
  system: string;
  /** Worker processes. */
  workers: number;
  /** Offered load in jobs/s, or undefined when adding as fast as accepted. */
  offeredPerSecond?: number;
  /** 1-minute load average when the run started and ended (other users of the machine show here). */
  loadAverage: [number, number];
  /** Per process: CPU seconds per 1,000 jobs and peak RSS in MiB. */
  processes: Record<string, { cpuSecondsPer1000: number; peakRssMb: number }>;
}

/** Options every system's run takes. */
export interface RunOptions {
  /** Jobs to add and wait for. */
  jobs: number;
  /** Worker processes. */
  workers: number;
  /** Jobs per add call. */
  batchSize: number;
  /** Offered load (jobs/s); unset adds as fast as the system accepts. */
  ratePerSecond?: number;
  /** Folder for logs and data. */
  dir: string;
}
