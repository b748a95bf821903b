import cluster, { type Worker } from "node:cluster";
import type { Logger } from "pino";
import type { RunnableTask, UnitProcessor, UnitResult } from "../core/client/unit-processor.js";
import { dispatchCount } from "./dispatch-count.js";
import { packTasks, unpackResults } from "./ipc-batch.js";
import { RUNNER_CONFIG_ENV, type RunnerConfig, type RunnerMessage, type RunnerTask } from "./ipc-messages.js";
import type { UnitRunnerEntry } from "./unit-runner-entry-path.js";

/** Settings of a {@link ClusterProcessor}. */
export interface ClusterProcessorOptions {
  /** Unit-runner processes. */
  workers: number;
  /** Tasks the processor asks to hold per runner (the handler's initial slots = workers × this). */
  slotsPerWorker: number;
  /** CPU fraction 0..1 each runner may use. */
  cpu: number;
  /** Wall-clock limit of one unit, ms (a lower limit from the distributor wins). */
  maxRunTimeMs: number;
  /** V8 old-space limit of each runner, MiB. */
  heapLimitMb: number;
  /** The runner entry file and the paths it must read. */
  entry: UnitRunnerEntry;
  /** How long a runner may take to start, ms. */
  startTimeoutMs: number;
  log: Logger;
}

interface Runner {
  readonly worker: Worker;
  ready: boolean;
  /** Tasks sent, no result yet, in the order the runner runs them. */
  readonly outstanding: Map<string, RunnableTask>;
  readonly programsSent: Set<string>;
  /** When the runner last showed progress (results, or work after being idle), ms. */
  lastProgressMs: number;
  /** Why the primary killed it, if it did. */
  killedFor: "timeout" | "stop" | undefined;
}

/** Most tasks handed to one runner at once. */
const MAX_RUNNER_DEPTH = 1024;
/** Runner result batching (see RunnerConfig). */
const FLUSH_INTERVAL_MS = 10;
const FLUSH_COUNT = 256;
/** Pause before retrying a runner that failed to start, ms. */
const REPLACE_RETRY_MS = 1_000;

/**
 * The Node worker's unit processor: fans tasks out over `node:cluster` unit-runner processes started
 * in Node's permission model with a heap limit and locked down (see sandbox.ts), in batches, and
 * watches their wall clock. A unit past
 * its limit gets its runner killed and is reported as "timeout"; a runner that dies reports its
 * running unit as "crash"; either way the runner is replaced and its other tasks run elsewhere.
 */
export class ClusterProcessor implements UnitProcessor {
  /** Tasks wanted in hand: workers × slotsPerWorker. */
  readonly slots: number;
  /** Runner processes. */
  readonly executors: number;
  private readonly runners = new Set<Runner>();
  private queue: RunnableTask[] = [];
  /** Tasks a runner held when it was lost without telling which one it was running. */
  private readonly suspects = new Set<string>();
  private listener: (results: UnitResult[]) => void = () => undefined;
  private watchdog: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  private readonly log: Logger;

  constructor(private readonly options: ClusterProcessorOptions) {
    this.executors = options.workers;
    this.slots = options.workers * options.slotsPerWorker;
    this.log = options.log;
  }

  /** Starts every runner; rejects when one cannot start (e.g. its entry is missing or not permitted). */
  async start(): Promise<void> {
    const started = Array.from({ length: this.options.workers }, () => this.fork());
    try {
      await Promise.all(started);
    } catch (error) {
      await this.stop();
      throw error;
    }
    const tickMs = Math.max(20, Math.min(1_000, this.options.maxRunTimeMs / 4));
    this.watchdog = setInterval(() => this.checkWallClock(), tickMs);
  }

  /** Queues tasks and hands them to runners in batches. */
  run(tasks: readonly RunnableTask[]): void {
    if (this.stopped) return;
    this.queue.push(...tasks);
    this.dispatch();
  }

  /** Sets the listener of result batches (one call per runner message). */
  onResults(listener: (results: UnitResult[]) => void): void {
    this.listener = listener;
  }

  /** Drops queued tasks and kills every runner; resolves when they exited. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.suspects.clear();
    if (this.watchdog !== undefined) clearInterval(this.watchdog);
    this.queue = [];
    const exits = [...this.runners].map((runner) => {
      runner.killedFor = "stop";
      if (runner.worker.isDead()) return Promise.resolve();
      const exited = new Promise<void>((resolve) => runner.worker.once("exit", () => resolve()));
      runner.worker.process.kill("SIGKILL");
      return exited;
    });
    await Promise.all(exits);
  }

  private fork(): Promise<void> {
    const { entry, heapLimitMb, cpu } = this.options;
    const config: RunnerConfig = { cpu, flushIntervalMs: FLUSH_INTERVAL_MS, flushCount: FLUSH_COUNT };
    cluster.setupPrimary({
      exec: entry.file,
      execArgv: [
        "--experimental-permission",
        ...entry.readPaths.map((path) => `--allow-fs-read=${path}`),
        // Only for the module loader thread of the runner's import hooks: programs cannot reach
        // `Worker` (sandbox.ts denies the import and the constructor).
        "--allow-worker",
        `--max-old-space-size=${heapLimitMb}`,
        "--disable-warning=ExperimentalWarning",
        // Node warns at every runner start that --allow-worker could widen the permission model;
        // the line above says why it does not here. Unsilenced, each start logged a warning line.
        "--disable-warning=SecurityWarning",
      ],
      serialization: "advanced",
      silent: true,
    });
    // NODE_OPTIONS could carry flags that widen the sandbox (e.g. --allow-fs-write): runners get none.
    const worker = cluster.fork({ [RUNNER_CONFIG_ENV]: JSON.stringify(config), NODE_OPTIONS: "" });
    const runner: Runner = { worker, ready: false, outstanding: new Map(), programsSent: new Set(), lastProgressMs: 0, killedFor: undefined };
    this.runners.add(runner);
    const log = this.log.child({ runner: worker.id });
    worker.process.stdout?.on("data", (chunk: Buffer) => log.debug({ output: chunk.toString("utf8", 0, 2_000) }, "program wrote to stdout"));
    worker.process.stderr?.on("data", (chunk: Buffer) => log.warn({ output: chunk.toString("utf8", 0, 2_000) }, "unit runner wrote to stderr"));
    return new Promise<void>((resolve, reject) => {
      const startTimer = setTimeout(() => {
        worker.process.kill("SIGKILL");
        reject(new Error(`unit runner did not start within ${this.options.startTimeoutMs} ms`));
      }, this.options.startTimeoutMs);
      worker.on("message", (message: RunnerMessage) => {
        if (message.type === "ready") {
          clearTimeout(startTimer);
          runner.ready = true;
          resolve();
          this.dispatch();
        } else if (message.type === "results") {
          this.onRunnerResults(runner, unpackResults(message.results), message.idleMs);
        }
      });
      worker.on("error", (error) => log.warn({ err: error }, "unit runner channel error"));
      worker.on("exit", (code, signal) => {
        clearTimeout(startTimer);
        this.runners.delete(runner);
        if (!runner.ready) {
          reject(new Error(`unit runner exited before it was ready (code ${code}, signal ${signal}); entry ${entry.file}`));
          return;
        }
        this.onRunnerExit(runner, code, signal);
      });
    });
  }

  private onRunnerResults(runner: Runner, results: UnitResult[], idleMs: number): void {
    const known = results.filter((result) => runner.outstanding.delete(result.copyId));
    for (const result of known) this.suspects.delete(result.copyId);
    runner.lastProgressMs = performance.now() + idleMs;
    if (known.length > 0) this.listener(known);
    this.dispatch();
  }

  private onRunnerExit(runner: Runner, code: number | null, signal: string | null): void {
    if (runner.killedFor === "stop" || this.stopped) return;
    const lost = [...runner.outstanding.values()];
    runner.outstanding.clear();
    const running = lost[0];
    if (running !== undefined) {
      const certain = lost.length === 1 || this.suspects.has(running.copyId);
      if (certain) {
        this.suspects.delete(running.copyId);
        lost.shift();
        const outcome =
          runner.killedFor === "timeout"
            ? { ok: false as const, kind: "timeout" as const, message: `the unit ran past its wall-clock limit of ${this.limitMs(running)} ms` }
            : { ok: false as const, kind: "crash" as const, message: `the unit runner died (exit code ${code}, signal ${signal})` };
        this.log.warn({ copyId: running.copyId, kind: outcome.kind, code, signal, requeued: lost.length }, "unit runner lost");
        this.listener([{ copyId: running.copyId, outcome, durationMs: Math.max(0, performance.now() - runner.lastProgressMs) }]);
      } else {
        // Results batch up in the runner, so the running unit may be any of the ones not reported
        // yet: run them again one at a time, flushed around each, and blame the next loss exactly.
        for (const task of lost) this.suspects.add(task.copyId);
        this.log.warn({ suspects: lost.length, killedFor: runner.killedFor, code, signal }, "unit runner lost; isolating its tasks");
      }
    }
    this.queue.unshift(...lost);
    this.replace();
  }

  /** Forks a replacement runner, retrying every second while that fails (the worker must not silently shrink). */
  private replace(): void {
    if (this.stopped) return;
    this.fork().catch((error: unknown) => {
      this.log.error({ err: error }, "unit runner could not be replaced; retrying");
      setTimeout(() => this.replace(), REPLACE_RETRY_MS).unref();
    });
  }

  private limitMs(task: RunnableTask): number {
    return Math.min(this.options.maxRunTimeMs, task.maxRunTimeMs ?? Number.POSITIVE_INFINITY);
  }

  private checkWallClock(): void {
    const now = performance.now();
    for (const runner of this.runners) {
      const running = runner.outstanding.values().next().value;
      if (running === undefined || runner.killedFor !== undefined) continue;
      if (now - runner.lastProgressMs > this.limitMs(running)) {
        runner.killedFor = "timeout";
        runner.worker.process.kill("SIGKILL");
      }
    }
  }

  private dispatch(): void {
    if (this.stopped || this.queue.length === 0) return;
    const ready = [...this.runners].filter((runner) => runner.ready && runner.killedFor === undefined);
    let totalOutstanding = 0;
    for (const runner of ready) totalOutstanding += runner.outstanding.size;
    for (const runner of ready) {
      const count = dispatchCount({
        outstanding: runner.outstanding.size,
        queued: this.queue.length,
        totalOutstanding,
        runners: ready.length,
        maxDepth: MAX_RUNNER_DEPTH,
      });
      if (count === 0) continue;
      const tasks = this.queue.splice(0, count);
      totalOutstanding += count;
      this.send(runner, tasks);
    }
  }

  private send(runner: Runner, tasks: RunnableTask[]): void {
    const programs: { hash: string; source: string }[] = [];
    const wire = new Array<RunnerTask>(tasks.length);
    if (runner.outstanding.size === 0) runner.lastProgressMs = performance.now();
    for (let i = 0; i < tasks.length; i++) {
      const task = tasks[i]!;
      if (!runner.programsSent.has(task.programHash)) {
        runner.programsSent.add(task.programHash);
        programs.push({ hash: task.programHash, source: task.programSource });
      }
      runner.outstanding.set(task.copyId, task);
      wire[i] = {
        copyId: task.copyId,
        programHash: task.programHash,
        input: task.input,
        inputEncoding: task.inputEncoding,
        outputEncoding: task.outputEncoding,
        isolate: this.suspects.has(task.copyId),
      };
    }
    runner.worker.send({ type: "run", programs, tasks: packTasks(wire) });
  }
}
