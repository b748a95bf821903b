import { WakeSignal } from "./wake-signal.js";

/**
 * What a manager store tells the processes on it after a commit: `unitsReady` (work became
 * available: units added, requeued or reopened, copies given back, a project resumed) and
 * `unitsFinished` (units reached a final state, or were cancelled, expired or deleted).
 */
export type StoreChangeKind = "unitsReady" | "unitsFinished";

/**
 * A store's wake-ups (see `ManagerStore.changes`). A waiter reads `version(kind)` before it checks
 * the store, then `wait`s with it, so a change committed in between wakes it at once. A lost
 * wake-up only costs a waiter its timeout, never correctness: waiters always re-read the store.
 */
export interface StoreWakeups {
  /** Grows with every change of `kind` this process heard of. */
  version(kind: StoreChangeKind): number;
  /**
   * Resolves on the next change of `kind` (at once if one came after `sinceVersion`), after
   * `timeoutMs`, or when `signal` aborts. Never rejects.
   */
  wait(kind: StoreChangeKind, timeoutMs: number, signal?: AbortSignal, sinceVersion?: number): Promise<void>;
  /** Waiters parked now on `kind`. */
  waiting(kind: StoreChangeKind): number;
}

/**
 * In-process {@link StoreWakeups}: a backend whose every writer is this process (SQLite) calls
 * `emit` after each commit; one shared by several processes feeds `emit` from the engine's own
 * change feed (MongoDB change streams, Redis pub/sub).
 */
export class LocalStoreWakeups implements StoreWakeups {
  readonly #signals: Record<StoreChangeKind, WakeSignal> = { unitsReady: new WakeSignal(), unitsFinished: new WakeSignal() };

  /** Wakes every waiter on `kind`. */
  emit(kind: StoreChangeKind): void {
    this.#signals[kind].notify();
  }

  version(kind: StoreChangeKind): number {
    return this.#signals[kind].version;
  }

  wait(kind: StoreChangeKind, timeoutMs: number, signal?: AbortSignal, sinceVersion?: number): Promise<void> {
    return this.#signals[kind].wait(timeoutMs, signal, sinceVersion);
  }

  waiting(kind: StoreChangeKind): number {
    return this.#signals[kind].waiting;
  }
}
