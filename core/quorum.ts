/**
 * The most copies a unit's round may send, as a multiple of max_attempts, whoever failed them.
 * A client's second failure of a unit in a round uses no attempt (see
 * {@link QuorumTally.repeatFailures}), so that one broken client cannot exhaust a unit other clients
 * could compute; this ceiling still ends a unit that only one client ever gets to run and always
 * fails, after `3 × maxAttempts` copies instead of never.
 */
export const ROUND_COPY_CEILING_FACTOR = 3;

/** The settings quorum decisions depend on. */
export interface QuorumSettings {
  /** Copies of each unit to compute. */
  replication: number;
  /** Matching copies needed. */
  quorum: number;
  /** Attempts a unit may use before it fails (see {@link QuorumTally.attempts}). */
  maxAttempts: number;
}

/** The copies of a unit's current round, as quorum sees them. */
export interface QuorumTally {
  /** Output hashes of the round's OK copies (one entry per copy). */
  okHashes: readonly string[];
  /** Copies out with no result yet (their lease not expired). */
  pending: number;
  /**
   * Attempts used: copies leased in this round and not released, but for the repeat failures. Copies
   * that timed out, errored or disagreed count; so do OK and pending ones, since they used a slot of
   * the budget. Failed attempts thus count distinct failing clients (plus timeouts, whose client is
   * not known for sure).
   */
  attempts: number;
  /**
   * Copies of this round that failed (error or invalid output) on a client that had already failed
   * a copy of the unit in the round. They use no attempt, but they count toward the round's ceiling
   * of `maxAttempts × ROUND_COPY_CEILING_FACTOR` copies ({@link ROUND_COPY_CEILING_FACTOR}).
   */
  repeatFailures: number;
}

/** What to do with a unit after its copies changed. */
export type QuorumDecision =
  /** `quorum` copies agree on `hash`: the unit is done; OK copies with another hash are invalid. */
  | { kind: "done"; hash: string }
  /** No group can reach the quorum within max_attempts: the unit fails. */
  | { kind: "failed" }
  /** Keep going: lease `need` more copies now (0: wait for the pending ones). */
  | { kind: "open"; need: number };

/**
 * Decides a unit's fate from its round's copies. Agreement is equality of output hashes.
 *
 * * A hash group with `quorum` copies wins.
 * * Otherwise the unit keeps `replication` attempts in flight at first, and later sends more copies
 *   only when the pending ones could not lift the best group to the quorum (the copies that came in
 *   disagree, errored or timed out), never beyond `maxAttempts` attempts nor beyond
 *   {@link ROUND_COPY_CEILING_FACTOR} × `maxAttempts` copies in the round.
 * * It fails as soon as even the best group cannot reach the quorum with the pending copies plus
 *   the copies it may still send.
 */
export function decideQuorum(tally: QuorumTally, settings: QuorumSettings): QuorumDecision {
  const groups = new Map<string, number>();
  let best = 0;
  let bestHash = "";
  for (const hash of tally.okHashes) {
    const size = (groups.get(hash) ?? 0) + 1;
    groups.set(hash, size);
    if (size > best) {
      best = size;
      bestHash = hash;
    }
  }
  if (best >= settings.quorum) return { kind: "done", hash: bestHash };
  const ceiling = settings.maxAttempts * ROUND_COPY_CEILING_FACTOR - tally.attempts - tally.repeatFailures;
  const budget = Math.max(0, Math.min(settings.maxAttempts - tally.attempts, ceiling));
  const missing = settings.quorum - best;
  if (missing > tally.pending + budget) return { kind: "failed" };
  const need = Math.max(settings.replication - tally.attempts, missing - tally.pending, 0);
  return { kind: "open", need: Math.min(need, budget) };
}
