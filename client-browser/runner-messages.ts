/**
 * Messages between the page (client.js), the sandboxed runner iframe and its unit workers. The page
 * and the runner talk over a private MessageChannel; only structured-clonable data crosses.
 */
import type { UnitResult, WireTask } from "../core/client/unit-processor.js";

/** A task as the runner and its workers see it (the program travels once per hash, apart). */
export interface WorkerTask extends WireTask {
  /** Wall-clock limit of this run, ms. */
  limitMs: number;
}

/** A verified program's source, by hash. */
export interface WireProgram {
  hash: string;
  source: string;
}

/** Page → runner. `generation` grows with each abandon: results of older generations are stale. */
export type PageMessage =
  | { type: "init"; threads: number; cpu: number }
  | { type: "run"; generation: number; tasks: WorkerTask[]; programs: WireProgram[] }
  | { type: "abandon"; generation: number }
  | { type: "stop" };

/** Runner → page. */
export type RunnerMessage =
  | { type: "ready" }
  | { type: "results"; generation: number; results: UnitResult[] };

/** Runner → unit worker. */
export type ToWorkerMessage = { type: "run"; tasks: WorkerTask[]; programs: WireProgram[]; cpu: number };

/** Unit worker → runner: one finished task, and how long the worker now rests (duty cycle), ms. */
export type FromWorkerMessage = { type: "result"; result: UnitResult; restMs: number };

/** First message of the page to the runner iframe; carries the channel's port. */
export const CONNECT_MESSAGE = "disio-runner-connect";
