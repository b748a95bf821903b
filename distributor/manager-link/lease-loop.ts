import type { Logger } from "pino";
import { backoffDelayMs, DEFAULT_BACKOFF, type BackoffPolicy } from "../../core/backoff.js";
import { bufferPlan, type BufferSettings } from "../../core/buffer-plan.js";
import { sleep } from "../signal.js";

/**
 * How the lease loop is stopped. Two signals because a Lease the manager answered leases copies
 * there whether or not we read the answer: cancelling a call that was being answered strands its
 * copies at the manager until the next start's reconciling Register (or their lease expiry). A
 * call cancelled while the manager long-polls for work leases nothing.
 */
export interface LeaseLoopSignals {
  /** Stops asking for leases; a call already sent still completes and its copies are stored. */
  stop: AbortSignal;
  /** Also cancels the call in flight (the close grace ran out). */
  cancel: AbortSignal;
}

/** What the lease loop needs. */
export interface LeaseLoopDeps {
  /**
   * Leases up to `maxCopies` (encoded tasks), holding the call up to `waitMs` when the manager has
   * none (long-poll). `stop` may only abort it before it is sent, `cancel` at any time.
   */
  lease(maxCopies: number, waitMs: number, signals: LeaseLoopSignals): Promise<Uint8Array[]>;
  /** The buffer now: ready (servable) and held copies, the held tasks' bytes, and whether we drain. */
  state(): Promise<{ ready: number; held: number; heldBytes: number; draining: boolean }>;
  /** Watermarks and batch size (the batch already capped by the manager's settings). */
  settings(): BufferSettings & { leaseWaitMs: number };
  /** Stores leased tasks and makes them available to clients. */
  add(tasks: Uint8Array[]): Promise<void>;
  /**
   * Gives leased tasks that could not be stored back to the manager (Release: no attempt used).
   * Resolves to how many went back.
   */
  release(tasks: Uint8Array[]): Promise<number>;
  /** Resolves when copies were handed out (the buffer may need filling) or after `timeoutMs`. */
  waitForDemand(timeoutMs: number, signal: AbortSignal): Promise<unknown>;
  log: Logger;
  backoff?: BackoffPolicy;
}

/** Longest pause between two looks at the buffer when nothing wakes the loop, ms. */
const IDLE_CHECK_MS = 1_000;
/** Pause after an empty Lease that came back without waiting (a manager that does not long-poll), ms. */
const EMPTY_PAUSE_MS = 1_000;

/**
 * Keeps the buffer of ready copies between the watermarks: leases a batch whenever
 * {@link bufferPlan} says so, long-polling when the manager has no work, backing off while it is
 * unreachable or while the store cannot take what it leased (those copies are released to the
 * manager at once). Runs until `signals.stop` aborts, then returns once the Lease in flight (if any) was
 * answered and its copies stored, or was cancelled by `signals.cancel`.
 */
export async function runLeaseLoop(deps: LeaseLoopDeps, signals: LeaseLoopSignals): Promise<void> {
  const log = deps.log.child({ component: "lease-loop" });
  const { stop } = signals;
  let attempt = 0;
  while (!stop.aborted) {
    const settings = deps.settings();
    let plan;
    try {
      plan = bufferPlan({ ...(await deps.state()), inFlight: 0 }, settings);
    } catch (error) {
      log.error({ err: error }, "could not read the buffer state");
      await sleep(backoffDelayMs(attempt++, deps.backoff ?? DEFAULT_BACKOFF), stop);
      continue;
    }
    if (plan.count === 0) {
      await deps.waitForDemand(IDLE_CHECK_MS, stop);
      continue;
    }
    const started = Date.now();
    let tasks: Uint8Array[];
    try {
      tasks = await deps.lease(plan.count, settings.leaseWaitMs, signals);
    } catch (error) {
      if (signals.cancel.aborted) {
        log.info(
          { asked: plan.count },
          "lease in flight cancelled: a manager still waiting for work leased nothing; copies of an answer on its way go back at the next start, else when their lease expires",
        );
      }
      if (stop.aborted) break;
      const delay = backoffDelayMs(attempt++, deps.backoff ?? DEFAULT_BACKOFF);
      log.debug({ err: error, retryInMs: delay }, "lease failed");
      await sleep(delay, stop);
      continue;
    }
    if (tasks.length > 0) {
      // Stored even when stopping: the copies are ours at the manager now, and held copies outlive a restart.
      try {
        await deps.add(tasks);
      } catch (error) {
        // Copies we cannot hold go back to the manager's queue at once, for other distributors (or
        // us, once the store takes writes again): left leased there they would wait for their lease
        // to run out, each using an attempt, while we lease batch after batch we cannot store. The
        // backoff keeps growing until a batch is stored, so a store that stays full costs the manager
        // one Lease and one Release every few seconds.
        const delay = backoffDelayMs(attempt++, deps.backoff ?? DEFAULT_BACKOFF);
        const released = await deps.release(tasks).catch((releaseError: unknown) => {
          // Then their manager leases run out on their own and the copies go back to its queue.
          log.warn({ err: releaseError, copies: tasks.length }, "could not release the leased copies that could not be stored");
          return 0;
        });
        log[attempt === 1 ? "warn" : "debug"]({ err: error, leased: tasks.length, released, retryInMs: delay }, "could not store leased copies, released them");
        await sleep(delay, stop);
        continue;
      }
      attempt = 0;
      log.debug({ leased: tasks.length, asked: plan.count }, "copies leased");
    } else {
      attempt = 0;
      if (Date.now() - started < settings.leaseWaitMs / 2) await sleep(EMPTY_PAUSE_MS, stop);
    }
  }
}
