/**
 * Messages between the worker's primary process and its unit-runner processes (node:cluster IPC
 * with `serialization: "advanced"`, so Uint8Arrays travel as they are). Always in batches: one
 * message carries many tasks or many results, never one per unit at speed, packed column-wise
 * (ipc-batch.ts).
 */
import type { WireTask } from "../core/client/unit-processor.js";
import type { PackedResults, PackedTasks } from "./ipc-batch.js";

/** A task as a unit runner needs it (the program source travels once per runner, in `programs`). */
export interface RunnerTask extends WireTask {
  /**
   * Run this task with its result flushed right before and after it, so that if it hangs or kills
   * the runner, the primary knows it was this one (set for tasks under suspicion after a runner loss).
   */
  isolate: boolean;
}

/** Primary → runner: run these tasks, in order; load these programs first (ones the runner lacks). */
export interface RunMessage {
  type: "run";
  programs: { hash: string; source: string }[];
  tasks: PackedTasks;
}

/** Runner → primary: started and listening. */
export interface ReadyMessage {
  type: "ready";
}

/**
 * Runner → primary: results of the oldest tasks it was given, in order. `idleMs` is how long the
 * runner will now sleep to honour its CPU fraction: the wall-clock watchdog does not count it.
 */
export interface ResultsMessage {
  type: "results";
  results: PackedResults;
  idleMs: number;
}

/** Any runner → primary message. */
export type RunnerMessage = ReadyMessage | ResultsMessage;

/** Environment variable carrying the runner's {@link RunnerConfig} as JSON. */
export const RUNNER_CONFIG_ENV = "DISIO_UNIT_RUNNER_CONFIG";

/** Settings of a unit runner. */
export interface RunnerConfig {
  /** CPU fraction 0..1: after each unit the runner idles `(1 - cpu) / cpu` × its run time. */
  cpu: number;
  /** Send results at least this often while busy, ms (the watchdog's resolution). */
  flushIntervalMs: number;
  /** Send results as soon as this many wait. */
  flushCount: number;
}
