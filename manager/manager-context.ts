import type { Logger } from "pino";
import type { ProgramSigner } from "./signing-key.js";
import type { ManagerStore } from "./store/store.js";
import type { ThroughputMeter } from "./throughput-meter.js";
import type { ValidatorPool } from "./validator-pool.js";

/** Limits and intervals the services enforce and hand to distributors. */
export interface ManagerLimits {
  /** Most copies one Lease hands out. */
  maxLeaseBatch: number;
  /** Longest Lease long-poll, ms. */
  maxLeaseWaitMs: number;
  /** Most results one Report may carry. */
  maxReportBatch: number;
  /** Heartbeat interval told to distributors, ms (three missed → OFFLINE). */
  heartbeatIntervalMs: number;
  /** Most units one AddUnits may carry. */
  maxUnitsPerCall: number;
  /** Largest unit input, bytes. */
  maxInputBytes: number;
  /** Most input bytes one Lease answer carries (keeps it well under a distributor's 64 MiB read limit). */
  maxLeaseInputBytes: number;
  /** Most finished-unit notices one heartbeat returns. */
  maxNoticesPerHeartbeat: number;
  /** Idle time after which WatchResults sends an empty keep-alive batch, ms. */
  watchKeepAliveMs: number;
}

/** Hooks the services call so the manager can count what they do (Prometheus). */
export interface ManagerMetrics {
  unitsLeased(count: number): void;
  resultsReported(counts: { accepted: number; duplicates: number; unknown: number; refused: number }): void;
}

/** Everything the services need, passed in whole. */
export interface ManagerContext {
  /** The store; its `changes` wake Lease long-polls (`unitsReady`) and result watchers (`unitsFinished`). */
  store: ManagerStore;
  signer: ProgramSigner;
  managerId: string;
  groupId: string;
  limits: ManagerLimits;
  meter: ThroughputMeter;
  metrics: ManagerMetrics;
  log: Logger;
  now: () => number;
  /** Runs projects' `validate` exports in worker threads (CreateProject asks whether there is one). */
  validators: Pick<ValidatorPool, "hasValidator">;
  /** Runs validators on units held for them; kicked when a Report held some. */
  validations: { kick(): void };
  /** Aborts when the manager starts closing, so long-polls and watch streams end at once. */
  stopping: AbortSignal;
}

/** Default limits; startManager lets options override the tunable ones. */
export const DEFAULT_LIMITS: ManagerLimits = {
  maxLeaseBatch: 5_000,
  maxLeaseWaitMs: 30_000,
  maxReportBatch: 10_000,
  heartbeatIntervalMs: 5_000,
  maxUnitsPerCall: 100_000,
  maxInputBytes: 1024 * 1024,
  maxLeaseInputBytes: 16 * 1024 * 1024,
  maxNoticesPerHeartbeat: 10_000,
  watchKeepAliveMs: 15_000,
};
