/** Whether a part's store takes writes, as `/healthz` reports it. */
export type StoreHealthStatus =
  | { readonly healthy: true }
  | {
      readonly healthy: false;
      /** Why, in the engine's words prefixed by the kind, e.g. `store full: database or disk is full`. */
      readonly reason: string;
      /** When the first failure of this streak happened, epoch ms. */
      readonly sinceMs: number;
    };

/** What one observation changed: the store started failing (or fails for another reason now), or recovered. */
export type StoreHealthChange =
  | { readonly kind: "failing"; readonly reason: string }
  | { readonly kind: "recovered"; readonly reason: string; readonly downMs: number }
  | undefined;

/**
 * Tracks whether the last store write failed. A store failure (disk full, I/O error, busy) marks the
 * store failing; a write that succeeds marks it healthy again. Reads do not count as proof of
 * health: a full disk still serves them. Pure state fed with the time by its caller (the store
 * guard); the returned change lets the caller log each transition once instead of every failure.
 */
export class StoreHealth {
  #failing: { reason: string; sinceMs: number } | undefined;

  /** The store's health now. */
  get status(): StoreHealthStatus {
    const failing = this.#failing;
    return failing === undefined ? { healthy: true } : { healthy: false, reason: failing.reason, sinceMs: failing.sinceMs };
  }

  /** Records a failed store operation; returns `failing` when the store was healthy or failed for another reason. */
  failed(reason: string, nowMs: number): StoreHealthChange {
    const previous = this.#failing;
    if (previous?.reason === reason) return undefined;
    this.#failing = { reason, sinceMs: previous?.sinceMs ?? nowMs };
    return { kind: "failing", reason };
  }

  /** Records a write that succeeded; returns `recovered` when the store was failing. */
  wrote(nowMs: number): StoreHealthChange {
    const previous = this.#failing;
    if (previous === undefined) return undefined;
    this.#failing = undefined;
    return { kind: "recovered", reason: previous.reason, downMs: Math.max(0, nowMs - previous.sinceMs) };
  }
}
