import type { UnitResult } from "../core/client/unit-processor.js";
import type { FromWorkerMessage, ToWorkerMessage, WireProgram, WorkerTask } from "./runner-messages.js";

/** Tasks given to one worker at once: the running one and the next, so it never waits on a message. */
const DEPTH = 2;
/** How often running tasks are checked against their wall-clock limit, ms. */
const WATCH_EVERY_MS = 100;

interface Thread {
  worker: Worker;
  /** Tasks sent and not finished, the running one first. */
  outstanding: WorkerTask[];
  programsSent: Set<string>;
  /** When the running task started (or will start, after the worker's rest), ms. */
  sinceMs: number;
}

/** What a {@link UnitThreadPool} reports to. */
export interface UnitThreadPoolEvents {
  /** A task finished (or was killed for its limit: kind "timeout"). */
  result(result: UnitResult): void;
}

/**
 * The runner's dedicated Web Workers, one per thread, made from one `blob:` URL. Tasks queue here
 * and go to workers `DEPTH` at a time; a task past its wall-clock limit gets its worker terminated
 * and replaced, is reported as an error of kind "timeout", and the worker's other task runs again
 * elsewhere. {@link UnitThreadPool.reset} terminates every worker and drops every task.
 */
export class UnitThreadPool {
  private threads: Thread[] = [];
  private queue: WorkerTask[] = [];
  private readonly programs = new Map<string, string>();
  private readonly watchdog: ReturnType<typeof setInterval>;

  constructor(
    private readonly workerUrl: string,
    private readonly size: number,
    private cpu: number,
    private readonly events: UnitThreadPoolEvents,
  ) {
    for (let i = 0; i < size; i++) this.threads.push(this.spawn());
    this.watchdog = setInterval(() => this.watch(), WATCH_EVERY_MS);
  }

  /** Queues tasks (their programs first seen here are kept by hash). */
  run(tasks: readonly WorkerTask[], programs: readonly WireProgram[]): void {
    for (const program of programs) this.programs.set(program.hash, program.source);
    this.queue.push(...tasks);
    this.dispatch();
  }

  /** Terminates every worker and starts fresh ones; queued and running tasks are dropped. */
  reset(): void {
    this.queue = [];
    for (const thread of this.threads) thread.worker.terminate();
    this.threads = Array.from({ length: this.size }, () => this.spawn());
  }

  /** Terminates every worker for good. */
  close(): void {
    clearInterval(this.watchdog);
    this.queue = [];
    for (const thread of this.threads) thread.worker.terminate();
    this.threads = [];
  }

  private spawn(): Thread {
    // A classic worker: module workers cannot load from a blob: URL of an opaque (sandboxed) origin.
    const worker = new Worker(this.workerUrl, { name: "disio-unit" });
    const thread: Thread = { worker, outstanding: [], programsSent: new Set(), sinceMs: 0 };
    worker.addEventListener("message", (event: MessageEvent<FromWorkerMessage>) => {
      const message = event.data;
      if (message?.type !== "result" || !this.threads.includes(thread)) return;
      const index = thread.outstanding.findIndex((task) => task.copyId === message.result.copyId);
      if (index === -1) return;
      thread.outstanding.splice(index, 1);
      thread.sinceMs = performance.now() + message.restMs;
      this.events.result(message.result);
      this.dispatch();
    });
    return thread;
  }

  private dispatch(): void {
    for (const thread of this.threads) {
      if (this.queue.length === 0) return;
      const room = DEPTH - thread.outstanding.length;
      if (room <= 0) continue;
      const tasks = this.queue.splice(0, room);
      if (thread.outstanding.length === 0) thread.sinceMs = performance.now();
      thread.outstanding.push(...tasks);
      const programs: WireProgram[] = [];
      for (const task of tasks) {
        if (thread.programsSent.has(task.programHash)) continue;
        thread.programsSent.add(task.programHash);
        const source = this.programs.get(task.programHash);
        if (source !== undefined) programs.push({ hash: task.programHash, source });
      }
      const message: ToWorkerMessage = { type: "run", tasks, programs, cpu: this.cpu };
      thread.worker.postMessage(message);
    }
  }

  private watch(): void {
    const now = performance.now();
    for (const thread of [...this.threads]) {
      const running = thread.outstanding[0];
      if (running === undefined || now - thread.sinceMs <= running.limitMs) continue;
      thread.worker.terminate();
      this.threads[this.threads.indexOf(thread)] = this.spawn();
      this.queue.unshift(...thread.outstanding.slice(1));
      this.events.result({
        copyId: running.copyId,
        outcome: { ok: false, kind: "timeout", message: `the unit ran past its wall-clock limit of ${running.limitMs} ms` },
        durationMs: now - thread.sinceMs,
      });
    }
    this.dispatch();
  }
}
