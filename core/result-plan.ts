import { acceptsAlone } from "./adaptive-replication.js";
import { canaryVerdict } from "./canary-mix.js";
import { copyVerdict } from "./client-trust.js";
import { vouchedTrust } from "./distributor-trust.js";
import type { QuorumSettings } from "./quorum.js";
import {
  isFinalUnitState,
  unitAfterCopyEvent,
  unitAfterSettingsChange,
  type CopyEvent,
  type UnitState,
  type UnitTally,
  type UnitTransition,
} from "./unit-transitions.js";
import { validationPlan, voteHashes } from "./validator-classes.js";
import { distinctVoters } from "./voter-tags.js";

/**
 * What a reported result, an ended copy or a validator's verdict does to a unit, as **write plans**
 * every manager store backend applies atomically in its own transaction. The decisions (agreement,
 * quorum, validator holds, trust verdicts, which units go back to full quorum) are made here, from
 * what the backend read; the backend only reads, calls these and writes what they return.
 *
 * Ids are the backend's own: `C` a copy's, `D` a distributor's. Reader callbacks (`() => …`) are
 * called at most once, and only when the decision needs what they read, so a backend reads nothing
 * a decision does not use (and draws no random number it would not have drawn).
 */

/** The project settings a unit's decisions depend on. */
export interface ProjectRules extends QuorumSettings {
  /** The project's program exports `validate(a, b)` (see core/validator-classes.ts). */
  hasValidator: boolean;
  adaptiveReplication: boolean;
}

/** The counters of an open unit's current round. */
export type RoundCounters = Pick<UnitTally, "pending" | "attempts" | "repeatFailures">;

/** One OK copy of a unit's round, oldest first, as the decisions read it. */
export interface RoundVote<C, D> {
  copy: C;
  /** Its output hash. */
  hash: string;
  /** Its class once the project's validator compared it (see core/validator-classes.ts). */
  classHash?: string | undefined;
  distributor: D;
  /** Who computed it: null when its result named no client (nobody to judge), "" for a keyless client. */
  clientKey: string | null;
  /** Its voter tags (core/voter-tags.ts); undefined for a copy recorded before voters were kept. */
  voter?: readonly string[] | undefined;
}

/** A trust verdict on a client (core/client-trust.ts), applied to its record with `trustAfter`. */
export interface TrustVerdict<D> {
  distributor: D;
  /** The client's trust record key: its key, or `anon` for a distributor's keyless clients. */
  trustKey: string;
  verdict: "validated" | "wrong";
  /**
   * Set when the client was caught wrong and has a key: every unit it got accepted alone (adaptive
   * replication) goes back to full quorum (see {@link recheckNeed}), under the key `recheckKey`.
   */
  recheckKey?: string;
}

/** How an open unit's transition is written. */
export type UnitWrite<C, D> =
  /** Outputs differ and the validator has not compared them: held (need 0) in `state` until it has. */
  | { kind: "hold"; state: "running" | "queued" }
  /**
   * Done: the result is logged with `winningHash`; the round's OK copies voting otherwise become
   * `invalid`; `verdicts` judge the round's clients, in order.
   */
  | { kind: "done"; winningHash: string; selfAgreement: boolean; invalid: C[]; verdicts: TrustVerdict<D>[] }
  /** Failed, or still open with `need` copies to lease (both straight from the transition). */
  | { kind: "failed" }
  | { kind: "open" };

/** The quorum tally of a round: its counters and its OK copies' votes (classes once known) and voters. */
export function roundTally(counters: RoundCounters, votes: readonly RoundVote<unknown, unknown>[]): UnitTally {
  return { pending: counters.pending, attempts: counters.attempts, repeatFailures: counters.repeatFailures, okHashes: voteHashes(votes), okVoters: votes.map((v) => v.voter) };
}

/**
 * How to write `t`, an open unit's transition, given its round's OK copies as they stand once the
 * event is recorded (`votes`, read only when needed: a hold check or a finished unit).
 */
export function planUnitWrite<C, D>(t: UnitTransition, votes: () => readonly RoundVote<C, D>[], hasValidator: boolean): UnitWrite<C, D> {
  if (t.state === "done") {
    const round = votes();
    const winningHash = t.winningHash!;
    const classes = hasValidator ? voteHashes(round) : undefined;
    const invalid: C[] = [];
    round.forEach((v, i) => {
      if ((classes?.[i] ?? v.hash) !== winningHash) invalid.push(v.copy);
    });
    return { kind: "done", winningHash, selfAgreement: t.selfAgreement === true, invalid, verdicts: judgeRound(round, winningHash, t.selfAgreement !== true) };
  }
  if (hasValidator && validationPlan(votes()) !== undefined) return { kind: "hold", state: t.pending > 0 ? "running" : "queued" };
  return t.state === "failed" ? { kind: "failed" } : { kind: "open" };
}

/**
 * The trust verdicts on the clients of a round finished with `winningHash`, in the order of its
 * copies. Only a result verified by distinct volunteers (at least two agreeing, and `agreedAcross`:
 * not self-agreement) judges anyone; copies naming no client are not judged.
 */
export function judgeRound<C, D>(votes: readonly RoundVote<C, D>[], winningHash: string, agreedAcross: boolean): TrustVerdict<D>[] {
  if (votes.length < 2 || !agreedAcross) return [];
  const classes = voteHashes(votes);
  if (distinctVoters(votes.filter((_, i) => classes[i] === winningHash).map((v) => v.voter)) < 2) return [];
  const verdicts: TrustVerdict<D>[] = [];
  votes.forEach((v, i) => {
    if (v.clientKey === null) return;
    verdicts.push(verdictOn(v.distributor, v.clientKey, copyVerdict(classes[i]!, winningHash, true) as "validated" | "wrong"));
  });
  return verdicts;
}

/**
 * The verdict on a canary copy's client against the known answer `expectedHash` (core/canary-mix.ts),
 * or undefined when the result tells nothing or names no client. The canary itself never moves.
 */
export function planCanaryResult<D>(
  reported: { kind: "ok" | "error" | "invalid"; hash: string | undefined },
  expectedHash: string,
  hasValidator: boolean,
  distributor: D,
  clientKey: string | null,
): TrustVerdict<D> | undefined {
  const verdict = canaryVerdict(reported.kind, reported.hash, expectedHash, hasValidator);
  if (verdict === "none" || clientKey === null) return undefined;
  return verdictOn(distributor, clientKey, verdict);
}

function verdictOn<D>(distributor: D, clientKey: string, verdict: "validated" | "wrong"): TrustVerdict<D> {
  const trustKey = clientKey === "" ? "anon" : clientKey;
  return verdict === "wrong" && clientKey !== "" ? { distributor, trustKey, verdict, recheckKey: clientKey } : { distributor, trustKey, verdict };
}

/** A reported result's copy and unit as read when the result comes in. */
export interface ReportedCopy {
  /** The copy's outcome before this result: pending, released, or another (its lease expired). */
  was: "pending" | "released" | "other";
  /** The copy belongs to its unit's current round. */
  currentRound: boolean;
  unitState: UnitState;
  /** The unit's winning output hash, once done. */
  unitHash: string | undefined;
  counters: RoundCounters;
}

/** What a reported result does, before its unit's write is planned (see {@link planUnitWrite}). */
export type ResultPlan =
  /** For a finished unit or an old round: only the copy is recorded, with `outcome`; `endsPending`: it no longer counts as pending. */
  | { kind: "late"; outcome: "ok" | "error" | "invalid"; endsPending: boolean }
  /**
   * For an open unit's current round: the copy is recorded (its output kept when `keepOutput`, for
   * the quorum to come), then the unit moves by `transition` (its `unreplicated`: done on this one
   * client's word under adaptive replication, remembered so a later wrong answer can send it back).
   */
  | { kind: "open"; keepOutput: boolean; transition: UnitTransition };

/**
 * What a result (`reported`, from a client with voter tags `voter`, `clientKeyed` when it has a
 * stable key) does to its copy and unit.
 * `votes` reads the round's OK copies before this one (only under quorum > 1); `repeatClient` tells
 * (and notes) whether its client already failed a copy of the unit in the round (asked only for a
 * failure of an open unit's current round); `trust` reads the client's trust and its distributor's
 * weight (asked only when adaptive replication could accept the result alone).
 */
export function planReportedResult(input: {
  copy: ReportedCopy;
  reported: { kind: "ok" | "error" | "invalid"; hash: string | undefined };
  voter: readonly string[] | undefined;
  clientKeyed: boolean;
  rules: ProjectRules;
  votes: () => readonly RoundVote<unknown, unknown>[];
  repeatClient: () => boolean;
  trust: () => { trust: number; distributorWeight: () => number };
  random: () => number;
}): ResultPlan {
  const { copy, reported, rules } = input;
  const { kind, hash } = reported;
  if (!copy.currentRound || isFinalUnitState(copy.unitState)) {
    const late = kind === "ok" && copy.unitState === "done" && copy.currentRound && hash !== copy.unitHash ? "invalid" : kind;
    return { kind: "late", outcome: late, endsPending: copy.currentRound && copy.was === "pending" };
  }
  const tally: UnitTally = rules.quorum > 1 ? roundTally(copy.counters, input.votes()) : { ...copy.counters, okHashes: [] };
  const repeatClient = kind !== "ok" && input.repeatClient();
  const wasPending = copy.was === "pending";
  const alone =
    rules.adaptiveReplication && rules.quorum > 1 && kind === "ok" && tally.okHashes.length === 0 && copy.counters.pending - (wasPending ? 1 : 0) <= 0
      ? standsAlone(input.clientKeyed, input.trust, input.random)
      : false;
  const voter = input.voter;
  const event: CopyEvent =
    copy.was === "released"
      ? { type: "result-after-release", outcome: kind, repeatClient, ...(voter !== undefined && { voter }), ...(hash !== undefined && { hash }) }
      : { type: "result", outcome: kind, wasPending, repeatClient, acceptAlone: alone, ...(voter !== undefined && { voter }), ...(hash !== undefined && { hash }) };
  return { kind: "open", keepOutput: kind === "ok" && rules.quorum > 1, transition: unitAfterCopyEvent(tally, event, rules) };
}

/**
 * Whether an OK result may stand alone (core/adaptive-replication.ts): only a keyed client with some
 * trust, weighed by its distributor's record (core/distributor-trust.ts), against a fresh draw.
 */
function standsAlone(keyed: boolean, read: () => { trust: number; distributorWeight: () => number }, random: () => number): boolean {
  if (!keyed) return false;
  const { trust, distributorWeight } = read();
  if (trust === 0) return false;
  return acceptsAlone({ adaptive: true, keyed: true, trust: vouchedTrust(trust, distributorWeight()), random: random() });
}

/** No OK copies: the tally of a round that has none (shared, never changed). */
const NO_VOTES: readonly string[] = Object.freeze([]);

/**
 * The common case of a result, decided without reading the round: an OK result (`hash`) for a
 * pending copy (`wasPending`) of an open unit's current round under quorum 1 finishes it alone.
 * Returns the transition to `done`, or undefined when the case does not apply (then
 * {@link planReportedResult} decides). Takes plain values so the hot path allocates no more than
 * the transition itself.
 */
export function finishesAlone(
  unitState: UnitState,
  currentRound: boolean,
  wasPending: boolean,
  counters: RoundCounters,
  reported: { kind: "ok" | "error" | "invalid"; hash: string | undefined },
  rules: QuorumSettings,
): UnitTransition | undefined {
  if (reported.kind !== "ok" || rules.quorum > 1 || !wasPending || !currentRound || isFinalUnitState(unitState)) return undefined;
  const t = unitAfterCopyEvent(
    { pending: counters.pending, attempts: counters.attempts, repeatFailures: counters.repeatFailures, okHashes: NO_VOTES },
    { type: "result", outcome: "ok", hash: reported.hash, wasPending: true },
    rules,
  );
  return t.state === "done" ? t : undefined;
}

/**
 * An open unit's transition when a pending copy of its current round ends without a result: its
 * lease expired (an attempt used) or its distributor gave it back (none used). `votes` is read only
 * under quorum > 1.
 */
export function copyEndedTransition(
  counters: RoundCounters,
  ended: "timeout" | "released",
  rules: QuorumSettings,
  votes: () => readonly RoundVote<unknown, unknown>[],
): UnitTransition {
  const tally = rules.quorum > 1 ? roundTally(counters, votes()) : { ...counters, okHashes: [] };
  return unitAfterCopyEvent(tally, { type: ended }, rules);
}

/**
 * Copies a done unit accepted alone from a client since caught wrong asks for when it goes back to
 * its round (the lone copy still a vote): as full quorum needs them, at least one (a unit with no
 * attempt left still gets the one copy that can check it).
 */
export function recheckNeed(counters: RoundCounters, votes: readonly RoundVote<unknown, unknown>[], rules: QuorumSettings): number {
  const t = unitAfterSettingsChange(roundTally(counters, votes), { ...rules, adaptiveReplication: false });
  return Math.max(1, t.need);
}

/** Notes, across one batch of results, which clients failed a copy of which unit's current round. */
export class FailedClients<U> {
  readonly #byUnit = new Map<U, Set<string>>();

  /** Notes that `clientId` failed a copy of `unit`; false when it already had (a repeat failure). */
  note(unit: U, clientId: string): boolean {
    let failed = this.#byUnit.get(unit);
    if (failed === undefined) this.#byUnit.set(unit, (failed = new Set()));
    if (failed.has(clientId)) return false;
    failed.add(clientId);
    return true;
  }
}
