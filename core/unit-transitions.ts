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
  /** Attempts used this round: copies leased and not released (see core/quorum.ts). */
  attempts: number;
  /** Output hashes of the round's OK copies. */
  okHashes: readonly string[];
}

/** A change to one copy of an open unit's current round. */
export type CopyEvent =
  /** A result came in. `wasPending` is false for a copy whose lease had already expired. */
  | { type: "result"; outcome: "ok" | "error" | "invalid"; hash?: string; wasPending: boolean }
  /** The copy's lease expired without a result. */
  | { type: "timeout" }
  /** The distributor gave the copy back unstarted: it stops counting as an attempt. */
  | { type: "released" }
  /** A result came in for a copy that had been released (it is an attempt again after all). */
  | { type: "result-after-release"; outcome: "ok" | "error" | "invalid"; hash?: string };

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
  /** The winning output hash when the unit is now done. */
  winningHash?: string;
}

/**
 * Applies one copy event to an open unit and decides its next state with {@link decideQuorum}.
 * A unit with copies out is `running`, otherwise `queued`. Stores call this for every result,
 * expiry and release of a copy of an open unit; events for finished units only record the copy.
 */
export function unitAfterCopyEvent(tally: UnitTally, event: CopyEvent, settings: QuorumSettings): UnitTransition {
  let { pending, attempts } = tally;
  let okHashes = tally.okHashes;
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
      if (event.outcome === "ok" && event.hash !== undefined) okHashes = [...okHashes, event.hash];
      break;
    case "result-after-release":
      attempts += 1;
      if (event.outcome === "ok" && event.hash !== undefined) okHashes = [...okHashes, event.hash];
      break;
  }
  pending = Math.max(0, pending);
  attempts = Math.max(0, attempts);
  const decision = decideQuorum({ okHashes, pending, attempts }, settings);
  if (decision.kind === "done") return { state: "done", need: 0, pending, attempts, winningHash: decision.hash };
  if (decision.kind === "failed") return { state: "failed", need: 0, pending, attempts };
  return { state: pending > 0 ? "running" : "queued", need: decision.need, pending, attempts };
}

/**
 * Copies an open unit needs when its settings change (UpdateProject of replication, quorum or
 * max_attempts applies to units not done yet): the same decision as after a copy event.
 */
export function unitAfterSettingsChange(tally: UnitTally, settings: QuorumSettings): UnitTransition {
  const decision = decideQuorum(tally, settings);
  const { pending, attempts } = tally;
  if (decision.kind === "done") return { state: "done", need: 0, pending, attempts, winningHash: decision.hash };
  if (decision.kind === "failed") return { state: "failed", need: 0, pending, attempts };
  return { state: pending > 0 ? "running" : "queued", need: decision.need, pending, attempts };
}
