/**
 * Which held units a distributor cut off from its managers re-serves as extra copies, once the
 * fresh copies it holds ran out (see docs/operations.md, "Manager outage"). Extra copies keep the
 * clients busy; the manager counts their results toward each unit's quorum when it answers again.
 */

/** A held unit that could go out once more, as an extra copy. */
export interface ExtraCopyCandidate {
  /** The unit. */
  unitId: string;
  /** Copies of it in clients' hands right now (the leased copy and extras). */
  inHand: number;
  /** Extra copies of it made so far (in hands, reported, or lost with their client). */
  made: number;
  /**
   * Identity tags (core/voter-tags.ts) of the volunteers that were given a copy of the unit: a
   * volunteer sharing one of them already holds or computed a copy, and its second one proves nothing.
   */
  holderTags: readonly string[];
}

/**
 * The units to give a client as extra copies, at most `max`, at most one copy each: never a unit
 * one of the client's `tags` already holds or computed (distinct volunteers), never a unit with
 * `maxPerUnit` extras made; those with the fewest copies in hands first, then the fewest extras
 * made, then in the candidates' order (oldest held first). `maxPerUnit` 0 turns extras off.
 */
export function chooseExtraCopies(candidates: Iterable<ExtraCopyCandidate>, tags: readonly string[], max: number, maxPerUnit: number): string[] {
  if (max <= 0 || maxPerUnit <= 0) return [];
  const eligible: Array<ExtraCopyCandidate & { order: number }> = [];
  let order = 0;
  for (const candidate of candidates) {
    order += 1;
    if (candidate.made >= maxPerUnit || candidate.holderTags.some((tag) => tags.includes(tag))) continue;
    eligible.push({ ...candidate, order });
  }
  eligible.sort((a, b) => a.inHand - b.inHand || a.made - b.made || a.order - b.order);
  return eligible.slice(0, max).map((candidate) => candidate.unitId);
}
