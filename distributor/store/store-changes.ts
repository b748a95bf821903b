import type { StoreChange } from "./store.js";

/**
 * The listeners of a store's {@link StoreChange}s (see `DistributorStore.onChange`). A listener that
 * throws does not keep the others from hearing.
 */
export class StoreChanges {
  readonly #listeners = new Set<(change: StoreChange) => void>();

  /** Adds a listener; returns its removal. */
  listen(listener: (change: StoreChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Calls every listener with `change`. */
  emit(change: StoreChange): void {
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch {
        // A listener's failure is its own; the change happened either way.
      }
    }
  }
}
