import { Worker } from "node:worker_threads";
import type { PayloadEncoding } from "../core/project-settings.js";
import { ValidatorFailedError } from "./errors.js";

/** Options of {@link ValidatorPool}. */
export interface ValidatorPoolOptions {
  /** Longest one batch of comparisons (or loading a program) may take, ms. Default 5000. */
  timeoutMs?: number;
  /** Heap limit of a validator's worker thread, MiB. Default 64. */
  maxHeapMb?: number;
  /** A worker idle this long is ended, ms. Default 30000. */
  idleMs?: number;
}

/** The outputs to compare (by output hash, as stored) and the pairs of hashes to run `validate` on. */
export interface ComparisonBatch {
  outputEncoding: PayloadEncoding;
  outputs: Map<string, Uint8Array>;
  pairs: ReadonlyArray<readonly [string, string]>;
}

/**
 * The worker thread's code (CommonJS, run with `eval`, so it needs no file next to the compiled
 * one): it imports the program from a data: URL once, then answers `probe` (does it export
 * `validate`?) and `compare` (validate on each pair, outputs decoded as the project's encoding).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const loading = import("data:text/javascript;base64," + workerData.source);
loading.catch(() => undefined);
const decoder = new TextDecoder();
const why = (e) => (e instanceof Error ? e.message : String(e));
parentPort.on("message", async (m) => {
  let mod;
  try { mod = await loading; } catch (e) { parentPort.postMessage({ id: m.id, error: "the program does not load: " + why(e) }); return; }
  const validate = typeof mod.validate === "function" ? mod.validate : undefined;
  if (m.kind === "probe") { parentPort.postMessage({ id: m.id, hasValidator: validate !== undefined }); return; }
  if (validate === undefined) { parentPort.postMessage({ id: m.id, error: "the program exports no validate function" }); return; }
  try {
    const decode = (bytes) => (m.json ? JSON.parse(decoder.decode(bytes)) : bytes);
    const values = new Map(m.outputs.map(([hash, bytes]) => [hash, decode(bytes)]));
    const agree = [];
    for (const [a, b] of m.pairs) {
      const answer = await validate(values.get(a), values.get(b));
      if (typeof answer !== "boolean") throw new TypeError("validate returned " + typeof answer + ", not a boolean");
      agree.push(answer);
    }
    parentPort.postMessage({ id: m.id, agree });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: "validate threw: " + why(e) });
  }
});
`;

type Reply = { id: number; error?: string; hasValidator?: boolean; agree?: boolean[] };

/** One program's worker thread, answering one request at a time. */
class ValidatorWorker {
  readonly #worker: Worker;
  #queue: Promise<unknown> = Promise.resolve();
  #nextId = 0;
  #pending: { id: number; resolve: (reply: Reply) => void; reject: (error: Error) => void } | undefined;
  #dead: Error | undefined;
  idleTimer: NodeJS.Timeout | undefined;

  constructor(source: string, maxHeapMb: number, onExit: () => void) {
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { source: Buffer.from(source, "utf8").toString("base64") },
      resourceLimits: { maxOldGenerationSizeMb: maxHeapMb, maxYoungGenerationSizeMb: Math.max(4, Math.floor(maxHeapMb / 4)) },
      stdout: true,
      stderr: true,
    });
    this.#worker.unref();
    this.#worker.on("message", (reply: Reply) => {
      if (this.#pending?.id === reply.id) this.#pending.resolve(reply);
    });
    this.#worker.on("error", (error: Error & { code?: string }) => {
      this.#die(new ValidatorFailedError(error.code === "ERR_WORKER_OUT_OF_MEMORY" ? "out of memory" : error.message, { cause: error }));
    });
    this.#worker.on("exit", () => {
      this.#die(new ValidatorFailedError("its worker thread exited"));
      onExit();
    });
  }

  /** Sends one request and waits up to `timeoutMs` for its answer; a timeout ends the worker. */
  request(message: Record<string, unknown>, timeoutMs: number, transfer: ArrayBuffer[] = []): Promise<Reply> {
    const run = this.#queue.then(() => this.#send(message, timeoutMs, transfer));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  terminate(): void {
    void this.#worker.terminate();
  }

  #send(message: Record<string, unknown>, timeoutMs: number, transfer: ArrayBuffer[]): Promise<Reply> {
    if (this.#dead !== undefined) return Promise.reject(this.#dead);
    const id = ++this.#nextId;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#die(new ValidatorFailedError(`no answer within ${timeoutMs} ms`));
        this.terminate();
      }, timeoutMs);
      this.#pending = {
        id,
        resolve: (reply) => {
          clearTimeout(timer);
          this.#pending = undefined;
          resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          this.#pending = undefined;
          reject(error);
        },
      };
      this.#worker.postMessage({ ...message, id }, transfer);
    });
  }

  #die(error: Error): void {
    this.#dead ??= error;
    this.#pending?.reject(this.#dead);
  }
}

/**
 * Runs projects' `validate(a, b)` exports (trusted project-owner code) in worker threads, one per
 * program, with a heap limit and a time limit per request: a validator that throws, loops forever
 * or runs out of memory fails with {@link ValidatorFailedError} and its worker is replaced on the
 * next request; the manager's own thread never runs project code.
 */
export class ValidatorPool {
  readonly #workers = new Map<string, ValidatorWorker>();
  readonly #timeoutMs: number;
  readonly #maxHeapMb: number;
  readonly #idleMs: number;

  constructor(options: ValidatorPoolOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#maxHeapMb = options.maxHeapMb ?? 64;
    this.#idleMs = options.idleMs ?? 30_000;
  }

  /**
   * True when the program (an ES module) exports a `validate` function, loading it in a worker
   * thread of its own. Throws {@link ValidatorFailedError} when the module does not load in time.
   */
  async hasValidator(source: string): Promise<boolean> {
    const worker = new ValidatorWorker(source, this.#maxHeapMb, () => undefined);
    try {
      const reply = await worker.request({ kind: "probe" }, this.#timeoutMs);
      if (reply.error !== undefined) throw new ValidatorFailedError(reply.error);
      return reply.hasValidator === true;
    } finally {
      worker.terminate();
    }
  }

  /**
   * `validate(a, b)` on each pair of `batch` for the program `programHash` (whose `source` is given),
   * in order. Throws {@link ValidatorFailedError}.
   */
  async compare(programHash: string, source: string, batch: ComparisonBatch): Promise<boolean[]> {
    if (batch.pairs.length === 0) return [];
    const worker = this.#worker(programHash, source);
    clearTimeout(worker.idleTimer);
    try {
      const outputs = [...batch.outputs];
      const reply = await worker.request({ kind: "compare", json: batch.outputEncoding === "json", outputs, pairs: batch.pairs }, this.#timeoutMs);
      if (reply.error !== undefined) throw new ValidatorFailedError(reply.error);
      return reply.agree ?? [];
    } catch (error) {
      if (this.#workers.get(programHash) === worker) {
        this.#workers.delete(programHash);
        worker.terminate();
      }
      throw error;
    } finally {
      worker.idleTimer = setTimeout(() => this.#end(programHash, worker), this.#idleMs).unref();
    }
  }

  /** Ends every worker. */
  close(): void {
    for (const [hash, worker] of this.#workers) this.#end(hash, worker);
  }

  #worker(programHash: string, source: string): ValidatorWorker {
    let worker = this.#workers.get(programHash);
    if (worker === undefined) {
      const created: ValidatorWorker = new ValidatorWorker(source, this.#maxHeapMb, () => {
        if (this.#workers.get(programHash) === created) this.#workers.delete(programHash);
      });
      this.#workers.set(programHash, (worker = created));
    }
    return worker;
  }

  #end(programHash: string, worker: ValidatorWorker): void {
    clearTimeout(worker.idleTimer);
    if (this.#workers.get(programHash) === worker) this.#workers.delete(programHash);
    worker.terminate();
  }
}
