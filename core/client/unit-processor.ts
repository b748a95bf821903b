/**
 * The unit-processor protocol: how the client handler core hands verified tasks to whatever runs
 * them (node:cluster workers in `disio worker`, Web Workers in the browser) and gets results back.
 * Kept narrow and runtime-free so both clients implement it.
 */

/** How a unit's input or output bytes are read. */
export type UnitEncoding = "json" | "bytes";

/** Why a copy produced no output (the `kind` of a `TaskError` in common.proto). */
export type UnitErrorKind = "throw" | "timeout" | "crash" | "encoding" | "program";

/** A task whose program passed signature verification: safe to run. */
export interface RunnableTask {
  /** The copy's id; results are matched by it. */
  readonly copyId: string;
  /** The project the unit belongs to (for display: the browser shows what it computes). */
  readonly projectId: string;
  /** Lower-case hex SHA-256 of the program source. Processors load each program once per hash. */
  readonly programHash: string;
  /** The verified ES module source (the same string for every task of a program). */
  readonly programSource: string;
  /** The unit's input bytes (UTF-8 JSON text or raw bytes, as `inputEncoding` says). */
  readonly input: Uint8Array;
  /** How to hand `input` to the program: parsed JSON, or a `Uint8Array`. */
  readonly inputEncoding: UnitEncoding;
  /** How to encode the program's return value: UTF-8 of `JSON.stringify`, or the `Uint8Array` itself. */
  readonly outputEncoding: UnitEncoding;
  /** Wall-clock limit the distributor asked for (from Join), if any; processors may apply a lower one. */
  readonly maxRunTimeMs: number | undefined;
}

/**
 * A task as it crosses to the thread or process that runs it (a Web Worker, a unit-runner process):
 * plain structured-clonable data, the program source travelling apart, once per hash. Each runtime
 * extends it with what it alone needs (the browser's `WorkerTask`, the Node worker's `RunnerTask`).
 */
export interface WireTask {
  copyId: string;
  programHash: string;
  input: Uint8Array;
  inputEncoding: UnitEncoding;
  outputEncoding: UnitEncoding;
}

/** What one run produced. */
export type UnitOutcome =
  | { readonly ok: true; readonly output: Uint8Array }
  | { readonly ok: false; readonly kind: UnitErrorKind; readonly message: string };

/** The result of one {@link RunnableTask}. */
export interface UnitResult {
  /** The task's copy id. */
  readonly copyId: string;
  /** Output or error. */
  readonly outcome: UnitOutcome;
  /** How long the program ran, in milliseconds (0 when it never started). */
  readonly durationMs: number;
}

/**
 * Runs tasks. The handler calls {@link UnitProcessor.run} with batches and expects exactly one
 * result per task through the listener given to {@link UnitProcessor.onResults}, in batches, in any
 * order — unless {@link UnitProcessor.stop} is called first, after which results are no longer expected.
 */
export interface UnitProcessor {
  /**
   * How many tasks the processor wants in hand to never starve its executors (a small multiple of
   * them). The handler asks the distributor for at least this many slots.
   */
  readonly slots: number;
  /** How many executors (processes, Web Workers) run units in parallel. */
  readonly executors: number;
  /** Queues tasks; never throws for a task's own failure (that is an error result). */
  run(tasks: readonly RunnableTask[]): void;
  /** Sets the one listener that receives results, in batches. */
  onResults(listener: (results: UnitResult[]) => void): void;
  /** Drops queued work and tears the executors down. Idempotent. */
  stop(): Promise<void>;
  /**
   * Drops every task given so far, queued or running, without results (running ones are killed);
   * the processor stays ready for new tasks. Needed by `ClientHandler.suspend` (a browser tab that
   * is hidden or closing hands its tasks back); processors that never suspend may leave it out.
   */
  abandon?(): void;
  /**
   * Optional: these tasks are no longer wanted (their units were cancelled). The processor may skip
   * them if queued or stop them if running; either way it still delivers one result for each (an
   * error will do), which the handler ignores. Without it, cancelled tasks run and their results
   * are dropped.
   */
  cancel?(copyIds: readonly string[]): void;
}
