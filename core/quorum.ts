/**
 * The most copies a unit's round may send, as a multiple of max_attempts, whoever failed them.
 * A client's second failure of a unit in a round uses no attempt (see
 * {@link QuorumTally.repeatFailures}), so that one broken client cannot exhaust a unit other clients
 * could compute; this ceiling still ends a unit that only one client ever gets to run and always
 * fails, after `3 × maxAttempts` copies instead of never.
 */
export const ROUND_COPY_CEILING_FACTOR = 3;

import { distinctVoters } from "./voter-tags.js";

/** The settings quorum decisions depend on. */
export interface QuorumSettings {
  /** Copies of each unit to compute. */
  replication: number;
  /** Matching copies needed. */
  quorum: number;
  /** Attempts a unit may use before it fails (see {@link QuorumTally.attempts}). */
  maxAttempts: number;
  /**
   * Adaptive replication: a fresh round sends one copy first (its result may stand alone, see
   * core/adaptive-replication.ts); the others follow only when it does not. Default false.
   */
  adaptiveReplication?: boolean;
}

/**
 * Copies a fresh round (no copy out, none come back) sends at once: one under adaptive replication
 * with quorum > 1, else `replication`.
 */
export function initialCopies(settings: QuorumSettings): number {
  return settings.adaptiveReplication === true && settings.quorum > 1 ? 1 : settings.replication;
}

/** The copies of a unit's current round, as quorum sees them. */
export interface QuorumTally {
  /** Output hashes of the round's OK copies (one entry per copy). */
  okHashes: readonly string[];
  /**
   * Who computed each OK copy, as voter tags (see core/voter-tags.ts), in the order of `okHashes`.
   * Agreement counts distinct volunteers only. Absent (or an absent entry): every copy is its own voter.
   */
  okVoters?: readonly (readonly string[] | undefined)[];
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
  /**
   * `quorum` copies agree on `hash`: the unit is done; OK copies with another hash are invalid.
   * `selfAgreement`: they do not come from `quorum` distinct volunteers (one client agreed with
   * itself, its distributor having no one else to send the copy to): the result is unverified.
   */
  | { kind: "done"; hash: string; selfAgreement?: true }
  /** No group can reach the quorum within max_attempts: the unit fails. */
  | { kind: "failed" }
  /** Keep going: lease `need` more copies now (0: wait for the pending ones). */
  | { kind: "open"; need: number };

/**
 * Decides a unit's fate from its round's copies. Agreement is equality of output hashes, counted
 * across distinct volunteers (see {@link QuorumTally.okVoters}).
 *
 * * A hash group with `quorum` distinct volunteers wins.
 * * A group with `quorum` copies from fewer volunteers, and no other output in the round, wins as
 *   self-agreement once no copy is pending (a pending one may still come from someone else): the distributor gave a refused copy
 *   back to the same client because no other was there, and the unit would otherwise never finish.
 * * Otherwise the unit keeps `replication` attempts in flight at first (one under adaptive
 *   replication, see {@link initialCopies}), and later sends more copies
 *   only when the pending ones could not lift the best group to the quorum (the copies that came in
 *   disagree, errored or timed out), never beyond `maxAttempts` attempts nor beyond
 *   {@link ROUND_COPY_CEILING_FACTOR} × `maxAttempts` copies in the round.
 * * It fails as soon as even the best group cannot reach the quorum with the pending copies plus
 *   the copies it may still send.
 */
export function decideQuorum(tally: QuorumTally, settings: QuorumSettings): QuorumDecision {
  const groups = new Map<string, { copies: number; voters: Array<readonly string[] | undefined> }>();
  tally.okHashes.forEach((hash, i) => {
    let group = groups.get(hash);
    if (group === undefined) groups.set(hash, (group = { copies: 0, voters: [] }));
    group.copies += 1;
    group.voters.push(tally.okVoters?.[i]);
  });
  let best = 0;
  let bestHash = "";
  let selfHash: string | undefined;
  let selfCopies = 0;
  for (const [hash, group] of groups) {
    const distinct = tally.okVoters === undefined ? group.copies : distinctVoters(group.voters);
    if (distinct > best) {
      best = distinct;
      bestHash = hash;
    }
    if (group.copies >= settings.quorum && group.copies > selfCopies) {
      selfCopies = group.copies;
      selfHash = hash;
    }
  }
  if (best >= settings.quorum) return { kind: "done", hash: bestHash };
  // Self-agreement stands only uncontested: another volunteer's differing output calls for more copies.
  if (selfHash !== undefined && groups.size === 1) return tally.pending === 0 ? { kind: "done", hash: selfHash, selfAgreement: true } : { kind: "open", need: 0 };
  const ceiling = settings.maxAttempts * ROUND_COPY_CEILING_FACTOR - tally.attempts - tally.repeatFailures;
  const budget = Math.max(0, Math.min(settings.maxAttempts - tally.attempts, ceiling));
  const missing = settings.quorum - best;
  if (missing > tally.pending + budget) return { kind: "failed" };
  if (tally.attempts === 0 && tally.pending === 0 && tally.okHashes.length === 0) return { kind: "open", need: Math.min(initialCopies(settings), budget) };
  const need = Math.max(settings.replication - tally.attempts, missing - tally.pending, 0);
  return { kind: "open", need: Math.min(need, budget) };
}
