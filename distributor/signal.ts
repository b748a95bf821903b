/**
 * A level-less wake-up: `wait()` resolves at the next `notify()`, after `timeoutMs`, or when
 * `abort` fires — whichever comes first — and never rejects. Loops use it to sleep until there is
 * something to do.
 */
export class Signal {
  #waiters = new Set<() => void>();

  /** Wakes every current waiter. */
  notify(): void {
    const waiters = this.#waiters;
    this.#waiters = new Set();
    for (const wake of waiters) wake();
  }

  /** Resolves to true when notified, false on timeout or abort. */
  wait(timeoutMs: number, abort?: AbortSignal): Promise<boolean> {
    if (abort?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (notified: boolean) => {
        clearTimeout(timer);
        abort?.removeEventListener("abort", onAbort);
        this.#waiters.delete(onNotify);
        resolve(notified);
      };
      const onNotify = () => done(true);
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), Math.max(0, timeoutMs));
      this.#waiters.add(onNotify);
      abort?.addEventListener("abort", onAbort, { once: true });
    });
  }
}

/** Sleeps `ms`, or less when `abort` fires. Never rejects. */
export function sleep(ms: number, abort?: AbortSignal): Promise<void> {
  return new Signal().wait(ms, abort).then(() => undefined);
}
