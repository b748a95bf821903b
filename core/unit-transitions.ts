import { decideQuorum, type QuorumSettings } from "./quorum.js";

/** A work-unit's state. queued → running → done | failed | expired | cancelled. */
export type UnitState = "queued" | "running" | "done" | "failed" | "expired" | "cancelled";

/** What became of one copy. */
export type CopyOutcome = "pending" | "ok" | "error" | "timeout" | "invalid" | "released";

/** True for the states a unit never leaves on its own (only RequeueUnits reopens them). */
export function isFinalUnitState(state: UnitState): boolean {
  return state !== "queued" && state !== "running";
}

/** The counters of an open unit's current round that its transitions work on. */
export interface UnitTally {
  /** Copies out with no result. */
  pending: number;
  /** Attempts used this round: copies leased and not released, repeat failures aside (see core/quorum.ts). */
  attempts: number;
  /** Failed copies of this round whose client had already failed one, not counted in `attempts`. */
  repeatFailures: number;
  /** Output hashes of the round's OK copies. */
  okHashes: readonly string[];
  /** Voter tags of the round's OK copies, in the order of `okHashes` (see core/quorum.ts). */
  okVoters?: readonly (readonly string[] | undefined)[];
}

/**
 * A change to one copy of an open unit's current round. A result's `repeatClient` says that the
 * client reporting it had already failed (error or invalid output) a copy of the unit in this round:
 * a failure from such a client uses no attempt but is a repeat failure (see core/quorum.ts), so
 * one broken client cannot use up the attempts of units other clients could compute. It has no
 * effect on an OK result. Default false (an unknown client is a new one).
 */
export type CopyEvent =
  /**
   * A result came in. `wasPending` is false for a copy whose lease had already expired.
   * `acceptAlone`: adaptive replication found its client trusted enough (core/adaptive-replication.ts)
   * for an OK result to stand alone when it is the round's only one and no copy is out.
   */
  | {
      type: "result";
      outcome: "ok" | "error" | "invalid";
      hash?: string;
      wasPending: boolean;
      repeatClient?: boolean;
      voter?: readonly string[];
      acceptAlone?: boolean;
    }
  /** The copy's lease expired without a result. */
  | { type: "timeout" }
  /** The distributor gave the copy back unstarted: it stops counting as an attempt. */
  | { type: "released" }
  /** A result came in for a copy that had been released (it is an attempt again after all). */
  | { type: "result-after-release"; outcome: "ok" | "error" | "invalid"; hash?: string; repeatClient?: boolean; voter?: readonly string[] };

/** An open unit after a copy event. */
export interface UnitTransition {
  /** The unit's new state. */
  state: UnitState;
  /** Copies to lease now (0 unless the unit stays open). */
  need: number;
  /** Pending copies after the event. */
  pending: number;
  /** Attempts after the event. */
  attempts: number;
  /** Repeat failures after the event. */
  repeatFailures: number;
  /** The winning output hash when the unit is now done. */
  winningHash?: string;
  /** Set when the unit is done by self-agreement: its copies did not come from distinct volunteers. */
  selfAgreement?: true;
  /** Set when the unit is done by one trusted client's result alone (adaptive replication). */
  unreplicated?: true;
}

/**
 * Applies one copy event to an open unit and decides its next state with {@link decideQuorum}.
 * A unit with copies out is `running`, otherwise `queued`. Stores call this for every result,
 * expiry and release of a copy of an open unit; events for finished units only record the copy.
 */
export function unitAfterCopyEvent(tally: UnitTally, event: CopyEvent, settings: QuorumSettings): UnitTransition {
  let { pending, attempts, repeatFailures } = tally;
  let okHashes = tally.okHashes;
  let okVoters = tally.okVoters;
  switch (event.type) {
    case "timeout":
      pending -= 1;
      break;
    case "released":
      pending -= 1;
      attempts -= 1;
      break;
    case "result":
      if (event.wasPending) pending -= 1;
      if (isRepeatFailure(event)) {
        attempts -= 1;
        repeatFailures += 1;
      }
      if (event.outcome === "ok" && event.hash !== undefined) ({ okHashes, okVoters } = withOk(tally, event.hash, event.voter));
      break;
    case "result-after-release":
      if (isRepeatFailure(event)) repeatFailures += 1;
      else attempts += 1;
      if (event.outcome === "ok" && event.hash !== undefined) ({ okHashes, okVoters } = withOk(tally, event.hash, event.voter));
      break;
  }
  pending = Math.max(0, pending);
  attempts = Math.max(0, attempts);
  if (event.type === "result" && event.acceptAlone === true && event.outcome === "ok" && event.hash !== undefined && okHashes.length === 1 && pending === 0) {
    return { state: "done", need: 0, pending, attempts, repeatFailures, winningHash: event.hash, unreplicated: true };
  }
  return transitionOf({ pending, attempts, repeatFailures, okHashes, ...(okVoters !== undefined && { okVoters }) }, settings);
}

/** The tally's OK copies with one more; voters are tracked once any copy has one. */
function withOk(tally: UnitTally, hash: string, voter: readonly string[] | undefined): Pick<UnitTally, "okHashes" | "okVoters"> {
  const okHashes = [...tally.okHashes, hash];
  if (tally.okVoters === undefined && voter === undefined) return { okHashes };
  const okVoters = [...(tally.okVoters ?? tally.okHashes.map(() => undefined)), voter];
  return { okHashes, okVoters };
}

/**
 * Copies an open unit needs when its settings change (UpdateProject of replication, quorum or
 * max_attempts applies to units not done yet): the same decision as after a copy event.
 */
export function unitAfterSettingsChange(tally: UnitTally, settings: QuorumSettings): UnitTransition {
  return transitionOf(tally, settings);
}

/** True for a failed result from a client that had already failed a copy of the unit in the round. */
function isRepeatFailure(event: { outcome: "ok" | "error" | "invalid"; repeatClient?: boolean }): boolean {
  return event.outcome !== "ok" && event.repeatClient === true;
}

/** The transition {@link decideQuorum} decides for a unit's round as it now stands. */
function transitionOf(tally: UnitTally, settings: QuorumSettings): UnitTransition {
  const decision = decideQuorum(tally, settings);
  const { pending, attempts, repeatFailures } = tally;
  if (decision.kind === "done") {
    const done: UnitTransition = { state: "done", need: 0, pending, attempts, repeatFailures, winningHash: decision.hash };
    if (decision.selfAgreement) done.selfAgreement = true;
    return done;
  }
  if (decision.kind === "failed") return { state: "failed", need: 0, pending, attempts, repeatFailures };
  return { state: pending > 0 ? "running" : "queued", need: decision.need, pending, attempts, repeatFailures };
}
