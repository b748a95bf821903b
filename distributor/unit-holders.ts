/** Defaults of {@link UnitHolders}. */
const DEFAULT_KEEP_MS = 30 * 60_000;
const DEFAULT_MAX_UNITS = 200_000;

/** A copy given, and to whom (the volunteer's identity tags). */
interface Given {
  copyId: string;
  tags: readonly string[];
}

/**
 * A unit's copies given lately: the first inline, any later ones in `more` (most units only ever
 * have one copy here, and one object per unit keeps 200,000 of them ~13 MB smaller than an array).
 */
interface UnitEntry extends Given {
  more: Given[] | undefined;
  atMs: number;
}

/**
 * Which volunteers (identity tags, see client-identity.ts) were given a copy of each unit lately, so
 * that the unit's next copy goes to someone else: a copy computed twice by one volunteer proves
 * nothing. Remembered for `keepMs` after the last copy given (the manager may lease the unit's next
 * copy well after the first one was computed) and for at most `maxUnits` units, oldest forgotten
 * first. In memory only: after a restart the manager's distinct-voter count still holds.
 */
export class UnitHolders {
  readonly #units = new Map<string, UnitEntry>();
  readonly #keepMs: number;
  readonly #maxUnits: number;

  constructor(options: { keepMs?: number; maxUnits?: number } = {}) {
    this.#keepMs = options.keepMs ?? DEFAULT_KEEP_MS;
    this.#maxUnits = options.maxUnits ?? DEFAULT_MAX_UNITS;
  }

  /** Notes that a volunteer with `tags` was given copy `copyId` of `unitId` at `nowMs`. */
  note(unitId: string, copyId: string, tags: readonly string[], nowMs: number): void {
    const entry = this.#units.get(unitId);
    if (entry === undefined) {
      this.#units.set(unitId, { copyId, tags, more: undefined, atMs: nowMs });
    } else {
      // Re-inserted so the map stays ordered by last use, oldest first.
      this.#units.delete(unitId);
      if (entry.more === undefined) entry.more = [{ copyId, tags }];
      else entry.more.push({ copyId, tags });
      entry.atMs = nowMs;
      this.#units.set(unitId, entry);
    }
    this.#prune(nowMs);
  }

  /**
   * True when a volunteer sharing one of `tags` was given another copy of `unitId` than `copyId`
   * lately (the same copy handed back to its client, say after a reconnect, is no second vote).
   */
  holds(unitId: string, copyId: string, tags: readonly string[], nowMs: number): boolean {
    const entry = this.#units.get(unitId);
    if (entry === undefined || nowMs - entry.atMs > this.#keepMs) return false;
    const heldBy = (c: Given) => c.copyId !== copyId && c.tags.some((tag) => tags.includes(tag));
    return heldBy(entry) || (entry.more?.some(heldBy) ?? false);
  }

  /** Units remembered. */
  get size(): number {
    return this.#units.size;
  }

  #prune(nowMs: number): void {
    for (const [unitId, entry] of this.#units) {
      if (this.#units.size <= this.#maxUnits && nowMs - entry.atMs <= this.#keepMs) break;
      this.#units.delete(unitId);
    }
  }
}
