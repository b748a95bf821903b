/**
 * Copies whose results a manager acknowledged, remembered for a retry window before their
 * assignments are forgotten: a client that retries a Report whose answer it lost still gets
 * "duplicate" rather than PermissionDenied, and the assignment table stays small at high rates.
 */
export class AckedCopies {
  #batches: { atMs: number; copyIds: string[] }[] = [];

  /** Records copies acknowledged at `atMs`. */
  add(copyIds: string[], atMs: number): void {
    if (copyIds.length > 0) this.#batches.push({ atMs, copyIds });
  }

  /** Takes the copies acknowledged at or before `beforeMs`. */
  takeUntil(beforeMs: number): string[] {
    let n = 0;
    while (n < this.#batches.length && (this.#batches[n] as { atMs: number }).atMs <= beforeMs) n++;
    return this.#batches.splice(0, n).flatMap((b) => b.copyIds);
  }
}
