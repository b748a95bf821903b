/**
 * An in-process wake-up: waiters park until `notify()` or their timeout, whichever comes first.
 * The manager keeps one for "work became available" (Lease long-polls) and one for "units
 * finished" (WatchResults). A lost wake-up only costs a waiter its timeout, never correctness:
 * waiters always re-read the store.
 */
export class WakeSignal {
  private waiters = new Set<() => void>();

  /** Wakes every current waiter. */
  notify(): void {
    const waiters = this.waiters;
    this.waiters = new Set();
    for (const wake of waiters) wake();
  }

  /** Resolves on the next `notify()`, after `timeoutMs`, or when `signal` aborts. Never rejects. */
  wait(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted || timeoutMs <= 0) return resolve();
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
