import type { Logger } from "pino";
import { isStoreError } from "../core/errors.js";
import { finishedUnits } from "./grid-stats.js";
import { allProjects } from "./store/all-projects.js";
import type { ManagerStore } from "./store/store.js";
import type { ThroughputMeter } from "./throughput-meter.js";

/** Lifecycle of the {@link Sweeper}. */
export type SweeperState = "initialized" | "running" | "stopped";

/** Copies timed out per sweep transaction, so one sweep never holds the write lock for long. */
const EXPIRY_BATCH = 10_000;
/** How long unit-finish notices are kept for heartbeats. */
const NOTICE_RETENTION_MS = 10 * 60_000;

/**
 * The manager's background loop, every `intervalMs`: times out expired leases (requeue or fail),
 * expires projects past their deadline, samples finished counts for throughput, prunes old
 * notices. Wakes lease long-polls and result watchers when that changed something.
 *
 * Leases are not timed out during the first `startupGraceMs`: while the manager was down its
 * distributors could not renew, so every lease outstanding may have run out meanwhile. Timing them
 * all out at once would burn an attempt of every unit in flight (failing some at max_attempts) and
 * send out copies still being computed; the grace lets the distributors reconnect and renew first.
 */
export class Sweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private _state: SweeperState = "initialized";

  constructor(
    private readonly deps: {
      store: ManagerStore;
      meter: ThroughputMeter;
      intervalMs: number;
      /** No lease times out before this long after the sweeper was made, ms. */
      startupGraceMs: number;
      log: Logger;
      now: () => number;
    },
  ) {
    this.expiryFromMs = deps.now() + deps.startupGraceMs;
  }

  /** When leases may start timing out (see the class comment). */
  private readonly expiryFromMs: number;

  /** Where the loop stands. */
  get state(): SweeperState {
    return this._state;
  }

  /** Starts the loop (first sweep right away). */
  start(): void {
    if (this._state !== "initialized") return;
    this._state = "running";
    this.schedule(0);
  }

  /** Stops the loop and waits for a sweep in progress. */
  async stop(): Promise<void> {
    this._state = "stopped";
    clearTimeout(this.timer);
    await this.running;
  }

  /** One sweep; exposed for tests. */
  async sweep(): Promise<void> {
    const { store, log } = this.deps;
    const now = this.deps.now();
    while (now >= this.expiryFromMs) {
      const r = await store.requeueExpired(now, EXPIRY_BATCH);
      if (r.timedOut > 0) log.info({ timedOut: r.timedOut, unitsFailed: r.unitsFinished }, "leases expired");
      if (r.timedOut < EXPIRY_BATCH) break;
    }
    const expired = await store.expireProjects(now);
    for (const projectId of expired) log.info({ projectId }, "project expired");
    const projects = await allProjects(store);
    this.deps.meter.sample(new Map(projects.map((p) => [p.id, finishedUnits(p)])), now);
    await store.pruneNotices(now - NOTICE_RETENTION_MS);
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.running = this.sweep()
        .catch((error: unknown) => {
          if (isStoreError(error)) this.deps.log.debug({ reason: error.message }, "sweep failed");
          else this.deps.log.error({ err: error }, "sweep failed");
        })
        .finally(() => {
          this.running = undefined;
          if (this._state === "running") this.schedule(this.deps.intervalMs);
        });
    }, delayMs);
    this.timer.unref();
  }
}
