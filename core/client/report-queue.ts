import { Code, ConnectError } from "@connectrpc/connect";
import type { TaskResult } from "../../gen/disio/v1/common_pb.js";
import { backoffDelayMs, type BackoffPolicy } from "../backoff.js";
import { reportFlushDelay } from "./report-flush.js";

/** How a {@link ReportQueue} batches. */
export interface ReportQueuePolicy {
  /** Results per Report call at most (and flush as soon as this many wait). */
  maxBatch: number;
  /** Output bytes per Report call at most (at least one result goes). */
  maxBatchBytes: number;
  /** Flush at the latest this long after the oldest waiting result arrived, ms. */
  maxDelayMs: number;
  /** Report calls on the wire at once. */
  concurrency: number;
  /** Retry delays after a failed call. */
  backoff: BackoffPolicy;
}

/** A result waiting to be reported, with the session (`K`) whose token must report it. */
export interface QueuedResult<K> {
  readonly key: K;
  readonly result: TaskResult;
  readonly ok: boolean;
  readonly bytes: number;
  readonly atMs: number;
}

/** What became of one Report call. */
export type ReportSettlement<K> =
  | {
      readonly kind: "acknowledged";
      readonly batch: QueuedResult<K>[];
      readonly accepted: number;
      readonly duplicates: number;
      /** Copies of the batch the distributor never gave this session: not stored. */
      readonly refusedCopyIds: readonly string[];
      readonly roundTripMs: number;
    }
  | { readonly kind: "failed"; readonly batch: QueuedResult<K>[]; readonly error: ConnectError; readonly dropped: boolean };

/** What a {@link ReportQueue} calls out to. */
export interface ReportQueueDeps<K> {
  /** Sends one Report call for results of one session. */
  send(key: K, results: TaskResult[]): Promise<{ accepted: number; duplicates: number; refusedCopyIds: readonly string[] }>;
  /** Told after every call; for `failed` with `dropped: false` the batch is queued again. */
  settled(settlement: ReportSettlement<K>): void;
  /** Monotonic clock, ms. */
  now(): number;
}

/** Refusals of a Report that retrying cannot fix: the results are dropped (their leases re-issue them). */
const FINAL_REPORT_CODES = new Set([Code.Unauthenticated, Code.PermissionDenied, Code.InvalidArgument, Code.NotFound]);

/**
 * Batches results into Report calls: flushes when a batch is full or its oldest result waited
 * `maxDelayMs`, keeps up to `concurrency` calls in flight, retries failed calls with backoff and
 * drops batches the distributor refuses for good. One call carries results of one session only.
 */
export class ReportQueue<K> {
  private pending: QueuedResult<K>[] = [];
  private inFlight = 0;
  /** Batches on the wire, not yet settled. */
  private readonly sending = new Set<QueuedResult<K>[]>();
  private failures = 0;
  private retryAtMs = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private draining = false;
  private closed = false;

  constructor(
    private readonly policy: ReportQueuePolicy,
    private readonly deps: ReportQueueDeps<K>,
  ) {}

  /** True when nothing waits and no call is on the wire. */
  get idle(): boolean {
    return this.pending.length === 0 && this.inFlight === 0;
  }

  /** Queues a result to be reported under session `key`. */
  add(key: K, result: TaskResult, ok: boolean, bytes: number): void {
    this.pending.push({ key, result, ok, bytes, atMs: this.deps.now() });
    this.schedule();
  }

  /**
   * Moves the waiting results of `copyIds` to session `key`: their copies were handed to that session
   * again (a rejoin after a distributor restart), and only it holds them now.
   */
  rekey(copyIds: ReadonlySet<string>, key: K): void {
    if (copyIds.size === 0) return;
    this.pending = this.pending.map((entry) => (entry.key !== key && copyIds.has(entry.result.copyId) ? { ...entry, key } : entry));
  }

  /**
   * Takes the results of session `key` waiting (not on the wire) out of the queue, for the caller
   * to send itself (a farewell as the page closes). Results of other sessions stay queued.
   */
  takePending(key: K): QueuedResult<K>[] {
    const taken = this.pending.filter((entry) => entry.key === key);
    this.pending = this.pending.filter((entry) => entry.key !== key);
    return taken;
  }

  /**
   * The results of session `key` on the wire and not yet acknowledged (they stay there: their calls
   * settle as usual). A farewell sends them again, since a page unloading cancels those calls and a
   * distributor stores a result reported twice once.
   */
  onTheWire(key: K): QueuedResult<K>[] {
    const out: QueuedResult<K>[] = [];
    for (const batch of this.sending) for (const entry of batch) if (entry.key === key) out.push(entry);
    return out;
  }

  /** From now on, sends everything waiting without delay (stopping). */
  drain(): void {
    this.draining = true;
    this.schedule();
  }

  /** Cancels the flush timer; calls on the wire still settle. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
  }

  private schedule(): void {
    const now = this.deps.now();
    const full = this.inFlight >= this.policy.concurrency;
    if (this.closed || full || this.pending.length === 0) return;
    const delay =
      now < this.retryAtMs
        ? this.retryAtMs - now
        : reportFlushDelay(
            { pending: this.pending.length, oldestAtMs: this.pending[0]?.atMs, inFlight: full, draining: this.draining },
            now,
            { maxBatch: this.policy.maxBatch, maxDelayMs: this.policy.maxDelayMs },
          );
    if (delay === undefined) return;
    if (delay > 0) {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.schedule();
      }, delay);
      return;
    }
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    void this.flush(this.takeBatch());
    // A second full batch (or, when draining, anything left) may go out beside the first.
    if (this.pending.length >= this.policy.maxBatch || this.draining) this.schedule();
  }

  /** The longest prefix of one session's results within the batch limits. */
  private takeBatch(): QueuedResult<K>[] {
    const key = this.pending[0]?.key;
    let count = 0;
    let bytes = 0;
    for (const entry of this.pending) {
      if (entry.key !== key || count >= this.policy.maxBatch) break;
      if (count > 0 && bytes + entry.bytes > this.policy.maxBatchBytes) break;
      bytes += entry.bytes;
      count++;
    }
    return this.pending.splice(0, count);
  }

  private async flush(batch: QueuedResult<K>[]): Promise<void> {
    const first = batch[0];
    if (first === undefined) return;
    this.inFlight++;
    this.sending.add(batch);
    const startedMs = this.deps.now();
    let settlement: ReportSettlement<K>;
    try {
      const response = await this.deps.send(first.key, batch.map((entry) => entry.result));
      this.failures = 0;
      settlement = {
        kind: "acknowledged",
        batch,
        accepted: response.accepted,
        duplicates: response.duplicates,
        refusedCopyIds: response.refusedCopyIds,
        roundTripMs: this.deps.now() - startedMs,
      };
    } catch (error) {
      const connectError = ConnectError.from(error);
      const dropped = FINAL_REPORT_CODES.has(connectError.code);
      if (!dropped) {
        this.pending = batch.concat(this.pending);
        this.retryAtMs = this.deps.now() + backoffDelayMs(this.failures++, this.policy.backoff);
      }
      settlement = { kind: "failed", batch, error: connectError, dropped };
    }
    this.inFlight--;
    this.sending.delete(batch);
    this.deps.settled(settlement);
    this.schedule();
  }
}
