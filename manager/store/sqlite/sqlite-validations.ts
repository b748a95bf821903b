import type { PayloadEncoding, ProjectSettings } from "../../../core/project-settings.js";
import { roundTally } from "../../../core/result-plan.js";
import { isFinalUnitState, unitAfterSettingsChange } from "../../../core/unit-transitions.js";
import { validationPlan } from "../../../core/validator-classes.js";
import { formatId, parseId } from "../../ids.js";
import type { ValidationsApplied, ValidationTask, ValidationVerdict } from "../store.js";
import { UNIT_STATE_CODE as S, unitStateOf } from "./codes.js";
import { CountDeltas } from "./count-deltas.js";
import type { UnitRow } from "./rows.js";
import type { Queries, Rules, SqliteUnitWrites } from "./sqlite-unit-writes.js";

/**
 * Re-deciding units from their round as stored: validators' verdicts (`validationWork`,
 * `applyValidations`) and changed quorum settings. Decisions are core's (quorum over classes,
 * core/result-plan.ts write plans); writes run inside the caller's transaction but `work`.
 */
export class SqliteValidations {
  constructor(
    private readonly q: Queries,
    private readonly writes: SqliteUnitWrites,
  ) {}

  /** Units held for their validator with the comparisons they need; see `ManagerStore.validationWork`. */
  work(limit: number): ValidationTask[] {
    const tasks: ValidationTask[] = [];
    for (const [unitSeq, round, projectSeq, programHash, outputEncoding] of this.q.validatingUnits.all(limit) as Array<[number, number, number, string, PayloadEncoding]>) {
      const rows = this.q.okOutputs.all(unitSeq, round) as Array<[string, string | null, Buffer | null]>;
      const plan = validationPlan(rows.map(([hash, classHash]) => ({ hash, classHash: classHash ?? undefined })));
      const outputs = new Map<string, Uint8Array>();
      for (const [hash, , output] of rows) if (output !== null && !outputs.has(hash)) outputs.set(hash, output);
      tasks.push({ unitId: formatId("u", unitSeq), projectId: formatId("p", projectSeq), programHash, outputEncoding, round, plan, outputs });
    }
    return tasks;
  }

  /** Writes validators' verdicts; see `ManagerStore.applyValidations`. */
  apply(verdicts: readonly ValidationVerdict[], nowMs: number): ValidationsApplied {
    const deltas = new CountDeltas();
    const rules = new Map<number, Rules>();
    const applied: ValidationsApplied = { unitsReopened: false, unitsFinished: 0, unitsToValidate: 0 };
    this.writes.resetEffects();
    for (const verdict of verdicts) {
      const seq = parseId("u", verdict.unitId);
      const unit = seq === undefined ? undefined : (this.q.unit.get(seq) as UnitRow | undefined);
      if (unit === undefined || unit.round !== verdict.round || unit.validating !== 1) continue;
      this.q.setValidating.run(0, unit.id);
      const from = unitStateOf(unit.state);
      if (isFinalUnitState(from)) continue;
      if ("error" in verdict) {
        deltas.move(unit.project_id, from, "failed");
        this.q.finishUnit.run(S.failed, unit.pending, unit.attempts, unit.repeat_failures, nowMs, null, null, null, verdict.error, unit.id);
        if (unit.pending > 0) this.q.insertNotice.run(unit.id, nowMs);
        applied.unitsFinished += 1;
        continue;
      }
      for (const [hash, classHash] of verdict.classes) this.q.setVoteHash.run(classHash, unit.id, unit.round, hash);
      const r = this.writes.rules(rules, unit.project_id);
      const t = unitAfterSettingsChange(this.tallyOf(unit), r);
      if (this.writes.writeTransition(unit.project_id, unit.id, unit.round, from, t, nowMs, deltas, undefined, undefined, r.hasValidator)) applied.unitsFinished += 1;
      if (t.need > 0) applied.unitsReopened = true;
    }
    this.writes.applyDeltas(deltas, nowMs);
    applied.unitsToValidate = this.writes.effects.held;
    if (this.writes.effects.reopened > 0) applied.unitsReopened = true;
    return applied;
  }

  /** Re-decides every open unit of a project after its quorum settings changed. */
  redecideOpenUnits(projectId: number, s: ProjectSettings, hasValidator: boolean, nowMs: number): void {
    const deltas = new CountDeltas();
    for (const seq of this.q.openUnitIds.all(projectId) as number[]) {
      const unit = this.q.unit.get(seq) as UnitRow;
      const t = unitAfterSettingsChange(this.tallyOf(unit), s);
      this.writes.writeTransition(projectId, seq, unit.round, unitStateOf(unit.state), t, nowMs, deltas, undefined, undefined, hasValidator);
    }
    this.writes.applyDeltas(deltas, nowMs);
  }

  /** A unit's round as quorum counts it. */
  private tallyOf(unit: UnitRow) {
    return roundTally({ pending: unit.pending, attempts: unit.attempts, repeatFailures: unit.repeat_failures }, this.writes.roundVotes(unit.id, unit.round));
  }
}
