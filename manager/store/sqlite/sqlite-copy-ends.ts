import { copyEndedTransition } from "../../../core/result-plan.js";
import { isFinalUnitState } from "../../../core/unit-transitions.js";
import { OUTCOME_CODE as O, unitStateOf } from "./codes.js";
import { CountDeltas } from "./count-deltas.js";
import type { CopyWithUnitRow } from "./rows.js";
import { unitCounters } from "./sqlite-results.js";
import type { Queries, Rules, SqliteUnitWrites } from "./sqlite-unit-writes.js";

/** Pending copies that end without a result in SQLite: leases that expired, copies given back. */
export class SqliteCopyEnds {
  constructor(
    private readonly q: Queries,
    private readonly writes: SqliteUnitWrites,
  ) {}

  /** Times out pending copies past their deadline; see `ManagerStore.requeueExpired`. */
  requeueExpired(nowMs: number, limit: number): { timedOut: number; unitsReopened: boolean; unitsFinished: number } {
    this.writes.resetEffects();
    const seqs = this.q.expiredCopies.all(nowMs, limit) as number[];
    const deltas = new CountDeltas();
    const rules = new Map<number, Rules>();
    let unitsReopened = false;
    let unitsFinished = 0;
    for (const seq of seqs) {
      const moved = this.end(this.q.copyWithUnit.get(seq) as CopyWithUnitRow, "timeout", "timeout: lease expired", rules, deltas, nowMs);
      if (moved.finished) unitsFinished += 1;
      if (moved.reopened) unitsReopened = true;
    }
    this.writes.applyDeltas(deltas, nowMs);
    return { timedOut: seqs.length, unitsReopened: unitsReopened || this.writes.effects.reopened > 0, unitsFinished };
  }

  /** Releases pending copies (by row id): no attempt used, units re-decided. Runs inside a transaction. */
  release(seqs: readonly number[], nowMs: number): { released: number; unitsReopened: boolean } {
    const deltas = new CountDeltas();
    const rules = new Map<number, Rules>();
    let unitsReopened = false;
    let released = 0;
    for (const seq of seqs) {
      const c = this.q.copyWithUnit.get(seq) as CopyWithUnitRow | undefined;
      if (c === undefined || c.outcome !== O.pending) continue;
      released += 1;
      if (this.end(c, "released", undefined, rules, deltas, nowMs).reopened) unitsReopened = true;
    }
    this.writes.applyDeltas(deltas, nowMs);
    return { released, unitsReopened };
  }

  /**
   * Ends a pending copy without a result — its lease expired (`timeout`, an attempt used) or its
   * distributor gave it back (`released`, none used) — and re-decides its unit. A copy of an old
   * round, or of a unit already final, only stops counting as pending.
   */
  private end(
    c: CopyWithUnitRow,
    ended: "timeout" | "released",
    error: string | undefined,
    rules: Map<number, Rules>,
    deltas: CountDeltas,
    nowMs: number,
  ): { finished: boolean; reopened: boolean } {
    this.q.setCopyOutcome.run(O[ended], c.id);
    // A canary's copy was never counted out, and its unit never moves (see SqliteCanaries.mix).
    if (c.canary_hash !== null) return { finished: false, reopened: false };
    deltas.copiesOut(c.project_id, -1);
    const unitState = unitStateOf(c.unit_state);
    if (c.round !== c.unit_round) return { finished: false, reopened: false };
    if (isFinalUnitState(unitState)) {
      this.q.setPending.run(c.unit_id);
      return { finished: false, reopened: false };
    }
    const r = this.writes.rules(rules, c.project_id);
    const t = copyEndedTransition(unitCounters(c), ended, r, () => this.writes.roundVotes(c.unit_id, c.round));
    const finished = this.writes.writeTransition(c.project_id, c.unit_id, c.round, unitState, t, nowMs, deltas, undefined, error, r.hasValidator);
    return { finished, reopened: t.need > 0 };
  }
}
