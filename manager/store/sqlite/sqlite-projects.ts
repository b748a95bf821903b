import type Database from "better-sqlite3";
import { initialCopies } from "../../../core/quorum.js";
import { isFinalUnitState, type UnitState } from "../../../core/unit-transitions.js";
import { NameTakenError, ProjectNotFoundError, ProjectStateError, UnitNotFoundError } from "../../errors.js";
import { formatId, parseId } from "../../ids.js";
import type { NewProject, ProjectChange, ProjectRecord } from "../store.js";
import { CANARY_STATE, PROJECT_STATE_CODE as P, projectStateOf, UNIT_STATE_CODE as S, unitStateOf } from "./codes.js";
import { CountDeltas } from "./count-deltas.js";
import { settingsParams, toProject, type ProjectRow, type UnitRow } from "./rows.js";
import type { SqliteAddRequests } from "./sqlite-add-requests.js";
import { rulesOf, type Queries, type SqliteUnitWrites } from "./sqlite-unit-writes.js";
import type { SqliteValidations } from "./sqlite-validations.js";

/**
 * Projects and the admin operations on their units in SQLite: create, update (re-deciding open
 * units when quorum settings change), delete, cancel, requeue, expire. Each call is one transaction.
 */
export class SqliteProjects {
  constructor(
    private readonly db: Database.Database,
    private readonly q: Queries,
    private readonly writes: SqliteUnitWrites,
    private readonly validations: SqliteValidations,
    private readonly addRequests: SqliteAddRequests,
  ) {}

  /** See `ManagerStore.createProject`. */
  async create(p: NewProject): Promise<ProjectRecord> {
    return this.db.transaction(() => {
      if (this.q.projectByName.get(p.settings.name) !== undefined) throw new NameTakenError("project", p.settings.name);
      const info = this.q.insertProject.run({
        ...settingsParams(p.settings),
        state: p.paused ? P.paused : P.active,
        programHash: p.programHash,
        hasValidator: p.hasValidator ? 1 : 0,
        now: p.nowMs,
      });
      return toProject(this.q.project.get(info.lastInsertRowid) as ProjectRow);
    })();
  }

  /** See `ManagerStore.updateProject`: new quorum settings re-decide the open units. */
  async update(id: string, change: ProjectChange, nowMs: number): Promise<ProjectRecord> {
    return this.db.transaction(() => {
      const row = projectRowOf(this.q, id);
      const state = projectStateOf(row.state);
      if (change.state !== undefined && change.state !== state) {
        if (state !== "active" && state !== "paused") {
          throw new ProjectStateError(`project ${id} is ${state}: it can no longer be paused or resumed`);
        }
        this.q.setProjectState.run(P[change.state], nowMs, row.id);
      }
      const s = change.settings;
      if (s !== undefined) {
        const other = this.q.projectByName.get(s.name) as number | undefined;
        if (other !== undefined && other !== row.id) throw new NameTakenError("project", s.name);
        this.q.updateSettings.run({ ...settingsParams(s), now: nowMs, id: row.id });
        const adaptiveChanged = s.adaptiveReplication !== (row.adaptive_replication === 1);
        if (s.replication !== row.replication || s.quorum !== row.quorum || s.maxAttempts !== row.max_attempts || adaptiveChanged) {
          this.validations.redecideOpenUnits(row.id, s, row.has_validator === 1, nowMs);
        }
      }
      return toProject(this.q.project.get(row.id) as ProjectRow);
    })();
  }

  /** See `ManagerStore.deleteProject`. */
  async delete(id: string): Promise<number> {
    return this.db.transaction(() => {
      const row = projectRowOf(this.q, id);
      this.q.deleteCopies.run(row.id);
      this.q.deleteResults.run(row.id);
      const units = this.q.deleteUnits.run(row.id).changes;
      this.q.deleteProject.run(row.id);
      this.addRequests.forget(row.id);
      return units;
    })();
  }

  /** See `ManagerStore.cancelUnits`. */
  async cancelUnits(projectId: string, unitIds: readonly string[] | undefined, nowMs: number): Promise<number> {
    return this.db.transaction(() => {
      const project = projectRowOf(this.q, projectId);
      const ids = unitIds === undefined ? (this.q.openUnitIds.all(project.id) as number[]) : unitSeqsOf(this.q, unitIds, project.id);
      const deltas = new CountDeltas();
      let cancelled = 0;
      for (const seq of ids) {
        const unit = this.q.unit.get(seq) as UnitRow | undefined;
        if (unit === undefined || unit.project_id !== project.id || unit.state === CANARY_STATE) continue;
        const state = unitStateOf(unit.state);
        if (isFinalUnitState(state)) continue;
        this.q.closeUnit.run(S.cancelled, nowMs, seq);
        if (unit.pending > 0) this.q.insertNotice.run(seq, nowMs);
        deltas.move(project.id, state, "cancelled");
        cancelled += 1;
      }
      this.writes.applyDeltas(deltas, nowMs);
      return cancelled;
    })();
  }

  /** See `ManagerStore.requeueUnits`. */
  async requeueUnits(
    projectId: string,
    select: { unitIds: readonly string[] } | { state: UnitState },
    nowMs: number,
  ): Promise<number> {
    return this.db.transaction(() => {
      const project = projectRowOf(this.q, projectId);
      if (project.state === P.expired) throw new ProjectStateError(`project ${projectId} expired: its units cannot be requeued`);
      const ids =
        "unitIds" in select ? unitSeqsOf(this.q, select.unitIds, project.id) : (this.q.unitIdsByState.all(project.id, S[select.state]) as number[]);
      const deltas = new CountDeltas();
      let requeued = 0;
      for (const seq of ids) {
        const unit = this.q.unit.get(seq) as UnitRow | undefined;
        if (unit === undefined || unit.project_id !== project.id || unit.state === CANARY_STATE) continue;
        const state = unitStateOf(unit.state);
        if (!isFinalUnitState(state)) continue;
        this.q.requeueUnit.run(initialCopies(rulesOf(project)), seq);
        deltas.move(project.id, state, "queued");
        requeued += 1;
      }
      this.writes.applyDeltas(deltas, nowMs);
      if (requeued > 0) this.q.reopen.run(nowMs, project.id);
      return requeued;
    })();
  }

  /** See `ManagerStore.expireProjects`. */
  async expire(nowMs: number): Promise<string[]> {
    return this.db.transaction(() => {
      const ids = this.q.pastDeadline.all(nowMs) as number[];
      const deltas = new CountDeltas();
      for (const projectId of ids) {
        for (const seq of this.q.openUnitIds.all(projectId) as number[]) {
          const unit = this.q.unit.get(seq) as UnitRow;
          this.q.closeUnit.run(S.expired, nowMs, seq);
          if (unit.pending > 0) this.q.insertNotice.run(seq, nowMs);
          deltas.move(projectId, unitStateOf(unit.state), "expired");
        }
        this.q.setProjectState.run(P.expired, nowMs, projectId);
      }
      this.writes.applyDeltas(deltas, nowMs);
      return ids.map((id) => formatId("p", id));
    })();
  }}

/** A project's row by id; throws ProjectNotFoundError. */
export function projectRowOf(q: Queries, id: string): ProjectRow {
  const seq = parseId("p", id);
  const row = seq === undefined ? undefined : (q.project.get(seq) as ProjectRow | undefined);
  if (row === undefined) throw new ProjectNotFoundError(id);
  return row;
}

/** Unit ids as row ids; throws UnitNotFoundError for ids that are not this project's units. */
function unitSeqsOf(q: Queries, unitIds: readonly string[], projectId: number): number[] {
  return unitIds.map((id) => {
    const seq = parseId("u", id);
    const row = seq === undefined ? undefined : (q.unit.get(seq) as UnitRow | undefined);
    if (row === undefined || row.project_id !== projectId) throw new UnitNotFoundError(id);
    return row.id;
  });
}
