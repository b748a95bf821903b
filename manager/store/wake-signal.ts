/**
 * An in-process wake-up: waiters park until `notify()` or their timeout, whichever comes first.
 * `LocalStoreWakeups` (store-changes.ts) keeps one per kind of store change. A lost wake-up only
 * costs a waiter its timeout, never correctness: waiters always re-read the store.
 */
export class WakeSignal {
  private waiters = new Set<() => void>();
  private _version = 0;

  /** Grows on every notify: read it before checking the store, pass it to `wait` so no wake-up is lost. */
  get version(): number {
    return this._version;
  }

  /** Wakes every current waiter. */
  notify(): void {
    this._version += 1;
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
  }

  /**
   * Resolves on the next `notify()` (at once if one happened after `sinceVersion`), after
   * `timeoutMs`, or when `signal` aborts. Never rejects.
   */
  wait(timeoutMs: number, signal?: AbortSignal, sinceVersion?: number): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted || timeoutMs <= 0) return resolve();
      if (sinceVersion !== undefined && sinceVersion !== this._version) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal?.addEventListener("abort", done, { once: true });
      this.waiters.add(done);
    });
  }

  /** Waiters parked now. */
  get waiting(): number {
    return this.waiters.size;
  }
}
