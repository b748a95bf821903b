import { randomUUID } from "node:crypto";
import Database from "better-sqlite3";
import { takeWithinBytes } from "../../../core/byte-budget.js";
import { InvalidArgumentError } from "../../../core/errors.js";
import { compareProjectsForLease } from "../../../core/lease-order.js";
import { isPastDeadline } from "../../../core/project-deadline.js";
import type { PayloadEncoding, ProjectSettings } from "../../../core/project-settings.js";
import {
  isFinalUnitState,
  unitAfterCopyEvent,
  unitAfterSettingsChange,
  type CopyEvent,
  type UnitState,
  type UnitTransition,
} from "../../../core/unit-transitions.js";
import { copyVerdict, trustAfter } from "../../../core/client-trust.js";
import { acceptsAlone } from "../../../core/adaptive-replication.js";
import { canaryMix, canaryVerdict, ordinaryRoom } from "../../../core/canary-mix.js";
import { distributorWeight, vouchedTrust } from "../../../core/distributor-trust.js";
import { initialCopies } from "../../../core/quorum.js";
import { distinctVoters, voterTags } from "../../../core/voter-tags.js";
import { validationPlan, voteHashes, type ClassedVote } from "../../../core/validator-classes.js";
import { NameTakenError, ProjectNotFoundError, ProjectStateError, RequestIdReusedError, UnitNotFoundError } from "../../errors.js";
import { formatId, parseId } from "../../ids.js";
import type {
  AddedUnits,
  ClientLifespan,
  ClientSessionRecord,
  ClientTrustRecord,
  CopyAssignment,
  CopyRecord,
  DistributorLoad,
  DistributorRecord,
  LeasedTask,
  ManagerStore,
  NewProject,
  NewUnit,
  ProjectChange,
  ProjectRecord,
  RecordResultsOutcome,
  ReportedResult,
  ResultRecord,
  StoredProgram,
  UnitRecord,
  ValidationsApplied,
  ValidationTask,
  ValidationVerdict,
} from "../store.js";
import { BatchStatement, valuesList } from "../../../sqlite/batch-statement.js";
import { CountDeltas } from "./count-deltas.js";
import { FinishBatch, type FastFinish } from "./finish-batch.js";
import { resultFieldsMiddle } from "./result-fields-sql.js";
import { CANARY_STATE, OUTCOME_CODE, PROJECT_STATE_CODE, projectStateOf, UNIT_STATE_CODE, unitStateOf } from "./codes.js";
import { applySchema, SCHEMA_VERSION } from "./schema.js";
import { unitBatchDigest } from "../unit-batch-digest.js";
import { SqliteAddRequests, unitIdsOf } from "./sqlite-add-requests.js";
import { SqliteDistributors } from "./sqlite-distributors.js";
import { prepareQueries } from "./queries.js";
import { reportedOutcome, type Reported } from "./reported-outcome.js";
import { copyWithUnitOf, settingsParams, toCopy, toProject, toUnit, type CopyRow, type CopyWithUnitRow, type ProjectRow, type ReadyUnitRow, type UnitRow } from "./rows.js";

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /** Database file, e.g. `<data>/manager.sqlite`. */
  path: string;
  /** SQLite page cache, MiB. Default 32 (keeps the manager's RSS well under its budget). */
  cacheMiB?: number;
  /**
   * Write recordResults' common case (an OK result alone finishing a quorum-1 unit) as multi-row
   * statements (see finish-batch.ts). Default true. False records every result one at a time:
   * the same rows, more CPU; tests compare the two.
   */
  batchFinishes?: boolean;
  /** Uniform draws in [0, 1) for adaptive replication and canary mixing (core/adaptive-replication.ts, core/canary-mix.ts). Default Math.random. */
  random?: () => number;
}

/** Opens (creating when needed) the SQLite manager store: WAL, synchronous=NORMAL. */
export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const db = new Database(options.path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("temp_store = MEMORY");
  db.pragma(`cache_size = ${-1024 * (options.cacheMiB ?? 32)}`);
  db.pragma("busy_timeout = 5000");
  applySchema(db);
  return new SqliteStore(db, options.batchFinishes ?? true, options.random ?? Math.random);
}

const S = UNIT_STATE_CODE;
const O = OUTCOME_CODE;
const P = PROJECT_STATE_CODE;

/** Quorum settings and output encoding of a project, cached for one transaction. */
interface Rules {
  replication: number;
  quorum: number;
  maxAttempts: number;
  outputEncoding: PayloadEncoding;
  /** The project's program exports `validate(a, b)` (see core/validator-classes.ts). */
  hasValidator: boolean;
  /** Adaptive replication (core/adaptive-replication.ts). */
  adaptiveReplication: boolean;
}


/**
 * The better-sqlite3 backend of {@link ManagerStore}. Statements are prepared once; every public
 * operation is one transaction. Unit counters on `projects` move in the same transactions.
 */
export class SqliteStore implements ManagerStore {
  readonly kind = "sqlite";
  private readonly distributors: SqliteDistributors;
  private readonly q;
  private readonly insertUnits: BatchStatement;
  private readonly insertCopies: BatchStatement;
  private readonly finishes: FinishBatch;
  private readonly addRequests: SqliteAddRequests;
  /**
   * What the transaction running now did beside its own units, read and reset by the public
   * operation that runs it: units held for their validator (see applyTransition), and units sent
   * back to full quorum because the client they were accepted from alone was caught wrong.
   */
  private effects = { held: 0, reopened: 0 };

  constructor(
    private readonly db: Database.Database,
    private readonly batchFinishes = true,
    private readonly random: () => number = Math.random,
  ) {
    this.distributors = new SqliteDistributors(db, (copySeqs, nowMs) => this.releaseRows(copySeqs, nowMs));
    this.insertUnits = new BatchStatement(
      db,
      7,
      (n) => `INSERT INTO units (project_id, state, priority, need, created_at, input, canary_hash) VALUES ${valuesList(n, 7)}`,
    );
    this.insertCopies = new BatchStatement(
      db,
      6,
      (n) => `INSERT INTO copies (unit_id, round, distributor_id, outcome, sent_at, deadline) VALUES ${valuesList(n, 6)}`,
    );
    this.finishes = new FinishBatch(db);
    this.addRequests = new SqliteAddRequests(db);
    this.q = prepareQueries(db);
  }

  async groupId(): Promise<string> {
    return this.db.transaction(() => {
      this.q.putMeta.run("group_id", `g-${randomUUID()}`);
      this.q.putMeta.run("schema_version", String(SCHEMA_VERSION));
      return this.q.meta.get("group_id") as string;
    })();
  }

  async putProgram(program: StoredProgram): Promise<void> {
    this.q.putProgram.run(program.hash, program.source, Buffer.from(program.signature));
  }

  async getProgram(hash: string): Promise<StoredProgram | undefined> {
    const row = this.q.program.get(hash) as { hash: string; source: string; signature: Buffer } | undefined;
    return row && { hash: row.hash, source: row.source, signature: new Uint8Array(row.signature) };
  }

  async createProject(p: NewProject): Promise<ProjectRecord> {
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

  async getProject(id: string): Promise<ProjectRecord> {
    return toProject(this.projectRow(id));
  }

  async listProjects(page: { limit: number; pageToken?: string }): Promise<{ projects: ProjectRecord[]; nextPageToken: string }> {
    const before = page.pageToken ? parseToken(page.pageToken) : Number.MAX_SAFE_INTEGER;
    const rows = this.q.projectsPage.all(before, page.limit + 1) as ProjectRow[];
    const more = rows.length > page.limit;
    const projects = rows.slice(0, page.limit).map(toProject);
    return { projects, nextPageToken: more ? String(rows[page.limit - 1]!.id) : "" };
  }

  async updateProject(id: string, change: ProjectChange, nowMs: number): Promise<ProjectRecord> {
    return this.db.transaction(() => {
      const row = this.projectRow(id);
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
          this.redecideOpenUnits(row.id, s, row.has_validator === 1, nowMs);
        }
      }
      return toProject(this.q.project.get(row.id) as ProjectRow);
    })();
  }

  async deleteProject(id: string): Promise<number> {
    return this.db.transaction(() => {
      const row = this.projectRow(id);
      this.q.deleteCopies.run(row.id);
      this.q.deleteResults.run(row.id);
      const units = this.q.deleteUnits.run(row.id).changes;
      this.q.deleteProject.run(row.id);
      this.addRequests.forget(row.id);
      return units;
    })();
  }

  async addUnits(projectId: string, units: readonly NewUnit[], nowMs: number): Promise<string[]> {
    return this.db.transaction(() => {
      const firstUnit = this.insertUnitBatch(this.projectRow(projectId), units, nowMs);
      return unitIdsOf({ firstUnit, units: units.length });
    })();
  }

  async addUnitsOnce(projectId: string, requestId: string, units: readonly NewUnit[], nowMs: number): Promise<AddedUnits> {
    const digest = unitBatchDigest(units);
    return this.db.transaction(() => {
      const row = this.projectRow(projectId);
      const stored = this.addRequests.find(row.id, requestId);
      if (stored !== undefined) {
        if (stored.units !== units.length || stored.digest !== digest) throw new RequestIdReusedError(projectId, requestId);
        return { unitIds: unitIdsOf(stored), alreadyStored: true };
      }
      const request = { firstUnit: this.insertUnitBatch(row, units, nowMs), units: units.length, digest };
      this.addRequests.remember(row.id, requestId, request, nowMs);
      return { unitIds: unitIdsOf(request), alreadyStored: false };
    })();
  }

  /**
   * Inserts queued units into a project that is not expired, counts them, reopens it when done;
   * returns the first unit's row id. Canaries go in uncounted, in state 0 with no copy to lease.
   */
  private insertUnitBatch(row: ProjectRow, units: readonly NewUnit[], nowMs: number): number {
    if (row.state === P.expired) throw new ProjectStateError(`project ${formatId("p", row.id)} expired: it takes no more units`);
    const values = new Array<unknown>(units.length * 7);
    const need = initialCopies(rulesOf(row));
    let ordinary = 0;
    for (let i = 0; i < units.length; i++) {
      const unit = units[i]!;
      const canary = unit.expectedHash !== undefined;
      if (!canary) ordinary += 1;
      values[i * 7] = row.id;
      values[i * 7 + 1] = canary ? CANARY_STATE : S.queued;
      values[i * 7 + 2] = unit.priority;
      values[i * 7 + 3] = canary ? 0 : need;
      values[i * 7 + 4] = nowMs;
      values[i * 7 + 5] = unit.input;
      values[i * 7 + 6] = unit.expectedHash ?? null;
    }
    const first = this.insertUnits.insert(values);
    this.q.applyCounts.run(ordinary, 0, 0, 0, 0, 0, ordinary, 0, row.id);
    if (ordinary > 0) this.q.reopen.run(nowMs, row.id);
    return first;
  }

  async listUnits(
    projectId: string,
    page: { state?: UnitState; limit: number; pageToken?: string; maxBytes?: number },
  ): Promise<{ units: UnitRecord[]; nextPageToken: string }> {
    const project = this.projectRow(projectId);
    const after = page.pageToken ? parseToken(page.pageToken) : 0;
    // One row past the limit tells whether more follow.
    const found = (
      page.state === undefined
        ? this.q.unitsPage.iterate(project.id, after, page.limit + 1)
        : this.q.unitsPageByState.iterate(project.id, S[page.state], after, page.limit + 1)
    ) as IterableIterator<UnitRow>;
    const { taken: rows, cut } = takeWithinBytes(found, (row) => row.input.byteLength + (row.output?.byteLength ?? 0), page.maxBytes ?? Infinity);
    const more = cut || rows.length > page.limit;
    if (rows.length > page.limit) rows.pop();
    return { units: rows.map(toUnit), nextPageToken: more ? String(rows[rows.length - 1]!.id) : "" };
  }

  async getUnit(id: string): Promise<UnitRecord & { copies: CopyRecord[] }> {
    const seq = parseId("u", id);
    const row = seq === undefined ? undefined : (this.q.unit.get(seq) as UnitRow | undefined);
    // A canary (state 0) is not shown: see schema.ts.
    if (row === undefined || row.state === CANARY_STATE) throw new UnitNotFoundError(id);
    const copies = (this.q.copiesOfUnit.all(row.id) as CopyRow[]).map(toCopy);
    return { ...toUnit(row), copies };
  }

  async cancelUnits(projectId: string, unitIds: readonly string[] | undefined, nowMs: number): Promise<number> {
    return this.db.transaction(() => {
      const project = this.projectRow(projectId);
      const ids = unitIds === undefined ? (this.q.openUnitIds.all(project.id) as number[]) : this.unitSeqs(unitIds, project.id);
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
      this.applyDeltas(deltas, nowMs);
      return cancelled;
    })();
  }

  async requeueUnits(
    projectId: string,
    select: { unitIds: readonly string[] } | { state: UnitState },
    nowMs: number,
  ): Promise<number> {
    return this.db.transaction(() => {
      const project = this.projectRow(projectId);
      if (project.state === P.expired) throw new ProjectStateError(`project ${projectId} expired: its units cannot be requeued`);
      const ids =
        "unitIds" in select ? this.unitSeqs(select.unitIds, project.id) : (this.q.unitIdsByState.all(project.id, S[select.state]) as number[]);
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
      this.applyDeltas(deltas, nowMs);
      if (requeued > 0) this.q.reopen.run(nowMs, project.id);
      return requeued;
    })();
  }

  async leaseCopies(distributorId: string, max: number, nowMs: number, maxInputBytes = Number.POSITIVE_INFINITY): Promise<LeasedTask[]> {
    const distributor = parseId("d", distributorId) ?? 0;
    return this.db.transaction(() => {
      const projects = (
        this.q.activeProjects.all() as Array<{
          id: number;
          priority: number;
          deadline_ms: number | null;
          created_at: number;
          program_hash: string;
          input_encoding: PayloadEncoding;
          output_encoding: PayloadEncoding;
          lease_timeout_ms: number;
          canary_rate: number;
        }>
      )
        .filter((p) => !isPastDeadline(p.deadline_ms ?? undefined, nowMs))
        .sort((a, b) =>
          compareProjectsForLease(
            { priority: a.priority, deadlineMs: a.deadline_ms ?? undefined, createdAtMs: a.created_at },
            { priority: b.priority, deadlineMs: b.deadline_ms ?? undefined, createdAtMs: b.created_at },
          ),
        );
      const tasks: LeasedTask[] = [];
      const deltas = new CountDeltas();
      const budget = { bytes: maxInputBytes };
      for (const p of projects) {
        if (tasks.length >= max || budget.bytes <= 0) break;
        const rows = this.readyRows(p.id, ordinaryRoom(max - tasks.length, p.canary_rate), budget, tasks.length === 0);
        // Counted even when empty: applyDeltas then re-checks whether the project is done.
        deltas.copiesOut(p.id, rows.length);
        if (rows.length === 0) continue;
        const deadlineMs = nowMs + p.lease_timeout_ms;
        const firstCopy = this.leaseRows(rows, distributor, nowMs, deadlineMs);
        const projectId = formatId("p", p.id);
        let queued = 0;
        for (let i = 0; i < rows.length; i++) {
          const unit = rows[i]!;
          if (unit.state === S.queued) queued += 1;
          tasks.push({
            copyId: formatId("c", firstCopy + i),
            unitId: formatId("u", unit.id),
            projectId,
            programHash: p.program_hash,
            input: unit.input,
            inputEncoding: p.input_encoding,
            outputEncoding: p.output_encoding,
            deadlineMs,
            priority: unit.priority,
          });
        }
        deltas.move(p.id, "queued", "running", queued);
        this.mixCanaries(tasks, tasks.length - rows.length, max, p, distributor, nowMs, deadlineMs, budget);
      }
      this.applyDeltas(deltas, nowMs);
      this.distributors.touch(distributor, nowMs);
      return tasks;
    })();
  }

  async renewCopies(
    distributorId: string,
    copyIds: readonly string[],
    nowMs: number,
  ): Promise<{ renewed: Array<{ copyId: string; deadlineMs: number }>; lost: string[] }> {
    const distributor = parseId("d", distributorId);
    return this.db.transaction(() => {
      const renewed: Array<{ copyId: string; deadlineMs: number }> = [];
      const lost: string[] = [];
      const timeouts = new Map<number, number>();
      for (const copyId of copyIds) {
        const seq = parseId("c", copyId);
        const c = seq === undefined ? undefined : this.copyWithUnit(seq);
        const open = c !== undefined && (c.canary_hash !== null || (!isFinalUnitState(unitStateOf(c.unit_state)) && c.round === c.unit_round));
        if (c === undefined || c.outcome !== O.pending || c.distributor_id !== distributor || !open) {
          lost.push(copyId);
          continue;
        }
        let timeout = timeouts.get(c.project_id);
        if (timeout === undefined) {
          timeout = (this.q.project.get(c.project_id) as ProjectRow).lease_timeout_ms;
          timeouts.set(c.project_id, timeout);
        }
        this.q.renewCopy.run(nowMs + timeout, c.id);
        renewed.push({ copyId, deadlineMs: nowMs + timeout });
      }
      return { renewed, lost };
    })();
  }

  async releaseCopies(distributorId: string, copyIds: readonly string[], nowMs: number): Promise<number> {
    const distributor = parseId("d", distributorId);
    return this.db.transaction(() => {
      const seqs: number[] = [];
      for (const copyId of copyIds) {
        const seq = parseId("c", copyId);
        const c = seq === undefined ? undefined : this.copyWithUnit(seq);
        if (c !== undefined && c.outcome === O.pending && c.distributor_id === distributor) seqs.push(c.id);
      }
      return this.releaseRows(seqs, nowMs).released;
    })();
  }

  async recordResults(distributorId: string, results: readonly ReportedResult[], nowMs: number): Promise<RecordResultsOutcome> {
    const distributor = parseId("d", distributorId) ?? 0;
    return this.db.transaction(() => {
      const outcome: RecordResultsOutcome = { accepted: 0, duplicates: 0, unknown: 0, refused: 0, unitsReopened: false, unitsFinished: 0, unitsToValidate: 0 };
      this.effects = { held: 0, reopened: 0 };
      const deltas = new CountDeltas();
      const rules = new Map<number, Rules>();
      const seqs = results.map((r) => parseId("c", r.copyId) ?? 0);
      const rows = this.copiesWithUnits(seqs);
      const { reportedAt, failedClients } = this.reportedWithFailedClients(distributor, results, seqs, rows, rules);
      const distributorWeights = new Map<number, number>();
      // Common-case finishes not written yet (see FinishBatch), and units written or queued earlier
      // in this batch: their prefetched rows are stale.
      const queued: FastFinish[] = [];
      const flush = () => {
        this.finishes.write(queued, nowMs);
        queued.length = 0;
      };
      const touched = new Set<number>();
      for (let i = 0; i < results.length; i++) {
        const result = results[i]!;
        let c = rows.get(seqs[i]!);
        if (c === undefined) {
          outcome.unknown += 1;
          continue;
        }
        if (c.distributor_id !== distributor) {
          outcome.refused += 1;
          continue;
        }
        if (touched.has(c.unit_id)) {
          flush();
          c = this.copyWithUnit(c.id)!;
        }
        if (c.received_at !== null) {
          outcome.duplicates += 1;
          continue;
        }
        touched.add(c.unit_id);
        outcome.accepted += 1;
        const r = this.rules(rules, c.project_id);
        // Set for every copy that had no result when the batch began, as every accepted one.
        const reported = reportedAt[i]!;
        if (c.canary_hash !== null) {
          flush();
          this.recordCanary(c, c.canary_hash, result, reported, r.hasValidator, nowMs, deltas);
          continue;
        }
        if (this.finishAlone(c, result, reported, r, deltas, queued)) {
          outcome.unitsFinished += 1;
          continue;
        }
        flush();
        this.recordResult(c, result, reported, r, nowMs, deltas, outcome, failedClients, distributorWeights);
      }
      flush();
      this.applyDeltas(deltas, nowMs);
      outcome.unitsToValidate = this.effects.held;
      if (this.effects.reopened > 0) outcome.unitsReopened = true;
      return outcome;
    })();
  }

  async validationWork(limit: number): Promise<ValidationTask[]> {
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

  async applyValidations(verdicts: readonly ValidationVerdict[], nowMs: number): Promise<ValidationsApplied> {
    return this.db.transaction(() => {
      const deltas = new CountDeltas();
      const rules = new Map<number, Rules>();
      const applied: ValidationsApplied = { unitsReopened: false, unitsFinished: 0, unitsToValidate: 0 };
      this.effects = { held: 0, reopened: 0 };
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
        const r = this.rules(rules, unit.project_id);
        const tally = { pending: unit.pending, attempts: unit.attempts, repeatFailures: unit.repeat_failures, ...this.okTally(unit.id, unit.round) };
        const t = unitAfterSettingsChange(tally, r);
        if (this.applyTransition(unit.project_id, unit.id, unit.round, from, t, nowMs, deltas, undefined, undefined, r.hasValidator)) applied.unitsFinished += 1;
        if (t.need > 0) applied.unitsReopened = true;
      }
      this.applyDeltas(deltas, nowMs);
      applied.unitsToValidate = this.effects.held;
      if (this.effects.reopened > 0) applied.unitsReopened = true;
      return applied;
    })();
  }

  async requeueExpired(nowMs: number, limit: number): Promise<{ timedOut: number; unitsReopened: boolean; unitsFinished: number }> {
    return this.db.transaction(() => {
      this.effects = { held: 0, reopened: 0 };
      const seqs = this.q.expiredCopies.all(nowMs, limit) as number[];
      const deltas = new CountDeltas();
      const rules = new Map<number, Rules>();
      let unitsReopened = false;
      let unitsFinished = 0;
      for (const seq of seqs) {
        const moved = this.endPendingCopy(this.copyWithUnit(seq)!, O.timeout, "timeout: lease expired", rules, deltas, nowMs);
        if (moved.finished) unitsFinished += 1;
        if (moved.reopened) unitsReopened = true;
      }
      this.applyDeltas(deltas, nowMs);
      return { timedOut: seqs.length, unitsReopened: unitsReopened || this.effects.reopened > 0, unitsFinished };
    })();
  }

  async expireProjects(nowMs: number): Promise<string[]> {
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
      this.applyDeltas(deltas, nowMs);
      return ids.map((id) => formatId("p", id));
    })();
  }

  async listResults(
    projectId: string,
    cursor: string,
    limit: number,
    maxBytes = Number.POSITIVE_INFINITY,
  ): Promise<{ results: ResultRecord[]; nextCursor: string; more: boolean }> {
    const project = this.projectRow(projectId);
    const after = cursor === "" ? 0 : Number(cursor);
    if (!Number.isSafeInteger(after) || after < 0) throw new InvalidArgumentError("cursor", "not a cursor from this manager");
    // result_fields is set whenever result_seq is (by the statements that finish a unit; the
    // schema upgrade filled it in for units finished before the column existed).
    type ResultRow = { seq: number; unit_id: number; result_fields: Buffer; self_agreement: number; unreplicated: number };
    const found = this.q.results.iterate(project.id, after, limit) as IterableIterator<ResultRow>;
    const { taken: rows, cut } = takeWithinBytes(found, (row) => row.result_fields.byteLength, maxBytes);
    const more = cut || rows.length === limit;
    const id = formatId("p", project.id);
    const results = rows.map((row) => ({
      unitId: formatId("u", row.unit_id),
      projectId: id,
      fields: row.result_fields,
      cursor: String(row.seq),
      selfAgreement: row.self_agreement === 1,
      unreplicated: row.unreplicated === 1,
    }));
    return { results, nextCursor: results.length > 0 ? results[results.length - 1]!.cursor : cursor, more };
  }

  async latestResultsCursor(projectId: string, count: number): Promise<string> {
    const project = this.projectRow(projectId);
    const row = this.q.resultSeqFromEnd.get(project.id, count) as { seq: number } | undefined;
    return row === undefined ? "" : String(row.seq);
  }

  createDistributor(d: { name: string; region: string; tokenHash: string }, nowMs: number): Promise<DistributorRecord> {
    return this.distributors.create(d, nowMs);
  }
  getDistributorByTokenHash(tokenHash: string): Promise<DistributorRecord | undefined> {
    return this.distributors.byTokenHash(tokenHash);
  }
  getDistributor(id: string): Promise<DistributorRecord> {
    return this.distributors.get(id);
  }
  listDistributors(): Promise<DistributorRecord[]> {
    return this.distributors.list();
  }
  registerDistributor(id: string, r: { publicUrl: string; region: string; capacity: number; version: string }, nowMs: number): Promise<DistributorRecord> {
    return this.distributors.register(id, r, nowMs);
  }
  heartbeat(
    id: string,
    load: DistributorLoad,
    sessions: readonly ClientSessionRecord[],
    nowMs: number,
    limit: number,
    givenCopies?: readonly CopyAssignment[],
  ): Promise<{ finishedUnitIds: string[] }> {
    return this.distributors.heartbeat(id, load, sessions, nowMs, limit, givenCopies);
  }
  releaseUnheldCopies(id: string, heldCopyIds: readonly string[], nowMs: number): Promise<number> {
    return this.distributors.releaseUnheld(id, heldCopyIds, nowMs);
  }
  revokeDistributor(id: string, nowMs: number): Promise<number> {
    return this.distributors.revoke(id, nowMs);
  }
  drainDistributor(id: string): Promise<DistributorRecord> {
    return this.distributors.drain(id);
  }
  recentLifespans(limit: number): Promise<ClientLifespan[]> {
    return this.distributors.recentLifespans(limit);
  }
  pruneNotices(beforeMs: number): Promise<void> {
    return this.distributors.pruneNotices(beforeMs);
  }
  recentLifespansByDistributor(limit: number): Promise<Map<string, number[]>> {
    return this.distributors.recentLifespansByDistributor(limit);
  }
  async computingCounts(): Promise<Map<string, { copies: number; units: number }>> {
    // Served by the partial index over pending copies (copies_pending_deadline).
    const rows = this.db
      .prepare(
        `SELECT u.project_id AS project_id, count(*) AS copies, count(DISTINCT c.unit_id) AS units
         FROM copies c INDEXED BY copies_pending_deadline JOIN units u ON u.id = c.unit_id
         WHERE c.outcome = ${O.pending} AND c.client_id IS NOT NULL AND c.client_id <> '' GROUP BY u.project_id`,
      )
      .all() as { project_id: number; copies: number; units: number }[];
    return new Map(rows.map((r) => [formatId("p", r.project_id), { copies: r.copies, units: r.units }]));
  }

  async listClients(limit: number): Promise<ClientTrustRecord[]> {
    type Row = { distributor_id: number; client_key: string; trust: number; validated: number; wrong: number; last_seen: number };
    return (this.q.clientsByTrust.all(limit) as Row[]).map((row) => ({
      clientKey: row.client_key,
      distributorId: formatId("d", row.distributor_id),
      trust: row.trust,
      validated: row.validated,
      wrong: row.wrong,
      lastSeenMs: row.last_seen,
    }));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /**
   * Ends a pending copy without a result — its lease expired (`O.timeout`, an attempt used) or its
   * distributor gave it back (`O.released`, none used) — and re-decides its unit. A copy of an old
   * round, or of a unit already final, only stops counting as pending. Runs inside a transaction.
   */
  private endPendingCopy(
    c: CopyWithUnitRow,
    outcome: typeof O.timeout | typeof O.released,
    error: string | undefined,
    rules: Map<number, Rules>,
    deltas: CountDeltas,
    nowMs: number,
  ): { finished: boolean; reopened: boolean } {
    this.q.setCopyOutcome.run(outcome, c.id);
    // A canary's copy was never counted out, and its unit never moves (see mixCanaries).
    if (c.canary_hash !== null) return { finished: false, reopened: false };
    deltas.copiesOut(c.project_id, -1);
    const unitState = unitStateOf(c.unit_state);
    if (c.round !== c.unit_round) return { finished: false, reopened: false };
    if (isFinalUnitState(unitState)) {
      this.q.setPending.run(c.unit_id);
      return { finished: false, reopened: false };
    }
    const r = this.rules(rules, c.project_id);
    const oks = r.quorum > 1 ? this.okTally(c.unit_id, c.round) : { okHashes: [] };
    const event: CopyEvent = { type: outcome === O.timeout ? "timeout" : "released" };
    const t = unitAfterCopyEvent({ pending: c.pending, attempts: c.attempts, repeatFailures: c.repeat_failures, ...oks }, event, r);
    const finished = this.applyTransition(c.project_id, c.unit_id, c.round, unitState, t, nowMs, deltas, undefined, error, r.hasValidator);
    return { finished, reopened: t.need > 0 };
  }

  /** Releases pending copies (by row id): no attempt used, units re-decided. Runs inside a transaction. */
  private releaseRows(seqs: readonly number[], nowMs: number): { released: number; unitsReopened: boolean } {
    const deltas = new CountDeltas();
    const rules = new Map<number, Rules>();
    let unitsReopened = false;
    let released = 0;
    for (const seq of seqs) {
      const c = this.copyWithUnit(seq);
      if (c === undefined || c.outcome !== O.pending) continue;
      released += 1;
      if (this.endPendingCopy(c, O.released, undefined, rules, deltas, nowMs).reopened) unitsReopened = true;
    }
    this.applyDeltas(deltas, nowMs);
    return { released, unitsReopened };
  }

  /**
   * The common case of recordResults, batched: an OK result for a pending copy of an open unit in
   * its current round that finishes the unit by itself (quorum 1). Queues in `queued` the writes the
   * general path ({@link recordResult}) makes; false when the case does not apply. A quorum-1 unit
   * has no OK copy in its round while open (the first one finishes it), so there are no losing
   * copies to invalidate.
   */
  private finishAlone(
    c: CopyWithUnitRow,
    result: ReportedResult,
    reported: Reported,
    r: Rules,
    deltas: CountDeltas,
    queued: FastFinish[],
  ): boolean {
    if (!this.batchFinishes || reported.kind !== "ok" || r.quorum > 1 || c.outcome !== O.pending || c.round !== c.unit_round) return false;
    const from = unitStateOf(c.unit_state);
    if (isFinalUnitState(from)) return false;
    const event: CopyEvent = { type: "result", outcome: "ok", hash: reported.hash, wasPending: true };
    const t = unitAfterCopyEvent({ pending: c.pending, attempts: c.attempts, repeatFailures: c.repeat_failures, okHashes: [] }, event, r);
    if (t.state !== "done") return false;
    deltas.copiesOut(c.project_id, -1);
    deltas.move(c.project_id, from, "done");
    queued.push({
      copySeq: c.id,
      unitSeq: c.unit_id,
      projectSeq: c.project_id,
      clientId: result.clientId ?? null,
      ...voterColumns(result),
      durationMs: result.durationMs ?? null,
      output: reported.canonical!,
      hash: reported.hash!,
      pending: t.pending,
      attempts: t.attempts,
    });
    return true;
  }

  /**
   * Records one accepted result, reading the unit's round as it stands: any case, one row at a time.
   * `failedClients` (see {@link reportedWithFailedClients}) tells whether a failure comes from a
   * client that already failed a copy of the unit in its round; a failure recorded here joins it.
   */
  private recordResult(
    c: CopyWithUnitRow,
    result: ReportedResult,
    reported: Reported,
    r: Rules,
    nowMs: number,
    deltas: CountDeltas,
    outcome: RecordResultsOutcome,
    failedClients: Map<number, Set<string>>,
    distributorWeights: Map<number, number>,
  ): void {
    const { kind, hash, canonical, error } = reported;
    const unitState = unitStateOf(c.unit_state);
    const currentRound = c.round === c.unit_round;
    if (c.outcome === O.pending) deltas.copiesOut(c.project_id, -1);
    if (currentRound && !isFinalUnitState(unitState)) {
      const oks = r.quorum > 1 ? this.okTally(c.unit_id, c.round) : { okHashes: [] };
      const keepOutput = kind === "ok" && r.quorum > 1 ? canonical : undefined;
      const { clientKey, clientHost } = voterColumns(result);
      this.q.recordCopy.run(O[kind], nowMs, result.clientId ?? null, hash ?? null, error ?? null, result.durationMs ?? null, keepOutput ?? null, clientKey, clientHost, c.id);
      const repeatClient = kind !== "ok" && result.clientId !== undefined && !addFailedClient(failedClients, c.unit_id, result.clientId);
      const voter = clientKey === null ? undefined : voterTags({ clientKey, clientHost: clientHost ?? undefined, distributorId: formatId("d", c.distributor_id) });
      const wasPending = c.outcome === O.pending;
      const alone =
        r.adaptiveReplication && r.quorum > 1 && kind === "ok" && oks.okHashes.length === 0 && c.pending - (wasPending ? 1 : 0) <= 0
          ? this.acceptsAlone(c.distributor_id, clientKey, distributorWeights)
          : false;
      const event: CopyEvent =
        c.outcome === O.released
          ? { type: "result-after-release", outcome: kind, repeatClient, ...(voter !== undefined && { voter }), ...(hash !== undefined && { hash }) }
          : { type: "result", outcome: kind, wasPending, repeatClient, acceptAlone: alone, ...(voter !== undefined && { voter }), ...(hash !== undefined && { hash }) };
      const t = unitAfterCopyEvent({ pending: c.pending, attempts: c.attempts, repeatFailures: c.repeat_failures, ...oks }, event, r);
      const finished = this.applyTransition(c.project_id, c.unit_id, c.round, unitState, t, nowMs, deltas, kind === "ok" ? canonical : undefined, error, r.hasValidator);
      if (t.unreplicated) this.q.setUnreplicated.run(`${c.distributor_id}:${clientKey}`, c.unit_id);
      if (finished) outcome.unitsFinished += 1;
      if (t.need > 0) outcome.unitsReopened = true;
    } else {
      const late = kind === "ok" && unitState === "done" && currentRound && hash !== c.unit_hash ? "invalid" : kind;
      const { clientKey, clientHost } = voterColumns(result);
      this.q.recordCopy.run(O[late], nowMs, result.clientId ?? null, hash ?? null, error ?? null, result.durationMs ?? null, null, clientKey, clientHost, c.id);
      if (currentRound && c.outcome === O.pending) this.q.setPending.run(c.unit_id);
    }
  }

  /**
   * The outcome of each result of a report batch that will be recorded (`reportedAt[i]`, undefined
   * for the ones recordResults will skip as unknown, refused or already received), and for the
   * units that a client reports a failure for, the clients that already failed a copy of their
   * current round (`failedClients`). One statement for the whole batch, none when nothing failed.
   */
  private reportedWithFailedClients(
    distributor: number,
    results: readonly ReportedResult[],
    seqs: readonly number[],
    rows: Map<number, CopyWithUnitRow>,
    rules: Map<number, Rules>,
  ): { reportedAt: Array<Reported | undefined>; failedClients: Map<number, Set<string>> } {
    const reportedAt = new Array<Reported | undefined>(results.length);
    const failing: number[] = [];
    for (let i = 0; i < results.length; i++) {
      const c = rows.get(seqs[i]!);
      if (c === undefined || c.distributor_id !== distributor || c.received_at !== null) continue;
      const reported = reportedOutcome(results[i]!, this.rules(rules, c.project_id).outputEncoding);
      reportedAt[i] = reported;
      if (reported.kind !== "ok" && results[i]!.clientId !== undefined) failing.push(c.unit_id);
    }
    const failedClients = new Map<number, Set<string>>();
    if (failing.length === 0) return { reportedAt, failedClients };
    for (const [unitId, clientId] of this.q.failedClients.all(JSON.stringify(failing)) as Array<[number, string]>) {
      addFailedClient(failedClients, unitId, clientId);
    }
    return { reportedAt, failedClients };
  }

  /** The copies (with their units) of a batch, by copy row id; one statement. Unknown ids are absent. */
  private copiesWithUnits(seqs: readonly number[]): Map<number, CopyWithUnitRow> {
    const rows = this.q.copiesWithUnits.all(JSON.stringify(seqs)) as unknown[][];
    const byId = new Map<number, CopyWithUnitRow>();
    for (const row of rows) {
      const c = copyWithUnitOf(row);
      byId.set(c.id, c);
    }
    return byId;
  }

  /**
   * Writes an open unit's transition: its counters, and when it finished, its result (log entry,
   * canonical output, losing copies marked invalid) and a notice for distributors holding copies.
   * Returns true when the unit reached a final state.
   */
  private applyTransition(
    projectId: number,
    unitId: number,
    round: number,
    from: UnitState,
    t: UnitTransition,
    nowMs: number,
    deltas: CountDeltas,
    output: Uint8Array | undefined,
    error: string | undefined,
    hasValidator: boolean,
  ): boolean {
    if (hasValidator && t.state !== "done" && validationPlan(this.classedVotes(unitId, round)) !== undefined) {
      // Outputs differ and the project's validator has not compared them yet: hold the unit (no new
      // copies, no failure) until the validation queue has, off this transaction (see applyValidations).
      const state = t.pending > 0 ? "running" : "queued";
      deltas.move(projectId, from, state);
      this.q.updateUnit.run(S[state], 0, t.pending, t.attempts, t.repeatFailures, error ?? null, unitId);
      this.q.setValidating.run(1, unitId);
      this.effects.held += 1;
      return false;
    }
    deltas.move(projectId, from, t.state);
    if (t.state === "done") {
      const hash = t.winningHash!;
      const canonical = output ?? (this.q.winnerOutput.get(unitId, round, hash) as Buffer | undefined) ?? new Uint8Array();
      const seq = Number(this.q.insertResult.run(projectId, unitId).lastInsertRowid);
      this.q.finishUnit.run(S.done, t.pending, t.attempts, t.repeatFailures, nowMs, canonical, hash, seq, null, unitId);
      this.q.setResultFields.run({ middle: resultFieldsMiddle(canonical, hash, nowMs), unit: unitId });
      if (t.selfAgreement) this.q.setSelfAgreement.run(1, unitId);
      this.judgeClients(unitId, round, hash, t.selfAgreement !== true, nowMs, deltas);
      if (hasValidator) this.invalidateLosingClasses(unitId, round, hash);
      else this.q.invalidateLosers.run(unitId, round, hash);
    } else if (t.state === "failed") {
      this.q.finishUnit.run(S.failed, t.pending, t.attempts, t.repeatFailures, nowMs, null, null, null, error ?? null, unitId);
    } else {
      this.q.updateUnit.run(S[t.state], t.need, t.pending, t.attempts, t.repeatFailures, error ?? null, unitId);
      return false;
    }
    if (t.pending > 0) this.q.insertNotice.run(unitId, nowMs);
    return true;
  }

  /** The round's OK copies as quorum counts them: output hashes and voter tags (see core/voter-tags.ts). */
  private okTally(unitId: number, round: number): { okHashes: string[]; okVoters: Array<string[] | undefined> } {
    const votes = this.okVotes(unitId, round);
    const okHashes = voteHashes(votes);
    // NULL key: recorded before voters were kept, a voter of its own.
    const okVoters = votes.map((v) => v.voter);
    return { okHashes, okVoters };
  }

  /**
   * A round's OK copies, oldest first: id, output hash, class (see core/validator-classes.ts),
   * distributor, client key and voter tags (undefined for a copy recorded before voters were kept).
   */
  private okVotes(unitId: number, round: number) {
    return (this.q.okVotes.all(unitId, round) as Array<[string, number, string | null, string | null, string | null, number]>).map(
      ([hash, distributor, clientKey, clientHost, voteHash, id]) => ({
        id,
        hash,
        classHash: voteHash ?? undefined,
        distributor,
        clientKey,
        voter: clientKey === null ? undefined : voterTags({ clientKey, clientHost: clientHost ?? undefined, distributorId: formatId("d", distributor) }),
      }),
    );
  }

  /** A round's OK copies as the validator sees them: output hashes and classes. */
  private classedVotes(unitId: number, round: number): ClassedVote[] {
    return this.okVotes(unitId, round).map(({ hash, classHash }) => ({ hash, classHash }));
  }

  /** Marks invalid the round's OK copies that vote for another class than `winningHash`. */
  private invalidateLosingClasses(unitId: number, round: number, winningHash: string): void {
    const votes = this.okVotes(unitId, round);
    const classes = voteHashes(votes);
    const losers = votes.filter((_, i) => classes[i] !== winningHash).map((v) => v.id);
    if (losers.length > 0) this.q.invalidateCopies.run(JSON.stringify(losers));
  }

  /**
   * Updates the trust of the clients whose OK copies were in a unit's round when it finished with
   * `winningHash` (see core/client-trust.ts). Only a result verified by distinct volunteers (at
   * least two agreeing, and no self-agreement) judges anyone.
   */
  private judgeClients(unitId: number, round: number, winningHash: string, agreedAcross: boolean, nowMs: number, deltas: CountDeltas): void {
    const votes = this.okVotes(unitId, round);
    if (votes.length < 2) return;
    const classes = voteHashes(votes);
    const verified = agreedAcross && distinctVoters(votes.filter((_, i) => classes[i] === winningHash).map((v) => v.voter)) >= 2;
    if (!verified) return;
    for (const [i, { distributor: d, clientKey: key }] of votes.entries()) {
      const hash = classes[i]!;
      if (key === null) continue;
      const clientKey = key === "" ? "anon" : key;
      const verdict = copyVerdict(hash, winningHash, true);
      const trust = trustAfter((this.q.trustOf.get(d, clientKey) as number | undefined) ?? 0, verdict);
      this.q.putTrust.run({ d, key: clientKey, trust, validated: verdict === "validated" ? 1 : 0, wrong: verdict === "wrong" ? 1 : 0, now: nowMs });
      if (verdict === "wrong" && key !== "") this.recheckAcceptedFrom(d, key, nowMs, deltas);
    }
  }

  /**
   * Mixes canary copies of project `p` into a lease that just took ordinary copies of it (the
   * tasks from index `from` on): as many as core/canary-mix.ts draws, within the lease's `max`, of
   * distinct canaries picked at random, each put at a random place among the project's tasks so
   * that neither its shape nor its position tells it apart. Canary copies count in no counter:
   * their unit never moves.
   */
  private mixCanaries(
    tasks: LeasedTask[],
    from: number,
    max: number,
    p: { id: number; canary_rate: number; program_hash: string; input_encoding: PayloadEncoding; output_encoding: PayloadEncoding },
    distributor: number,
    nowMs: number,
    deadlineMs: number,
    budget: { bytes: number },
  ): void {
    const count = Math.min(canaryMix(tasks.length - from, p.canary_rate, this.random), max - tasks.length);
    if (count === 0) return;
    type CanaryRow = { id: number; round: number; input: Uint8Array; priority: number };
    const picked = (this.q.canaries.all(p.id, count) as CanaryRow[]).filter((row) => {
      if (row.input.byteLength > budget.bytes) return false;
      budget.bytes -= row.input.byteLength;
      return true;
    });
    if (picked.length === 0) return;
    const first = this.insertCopies.insert(picked.flatMap((row) => [row.id, row.round, distributor, O.pending, nowMs, deadlineMs]));
    picked.forEach((row, i) => {
      const at = from + Math.floor(this.random() * (tasks.length - from + 1));
      tasks.splice(at, 0, {
        copyId: formatId("c", first + i),
        unitId: formatId("u", row.id),
        projectId: formatId("p", p.id),
        programHash: p.program_hash,
        input: row.input,
        inputEncoding: p.input_encoding,
        outputEncoding: p.output_encoding,
        deadlineMs,
        priority: row.priority,
      });
    });
  }

  /**
   * Records a canary copy's result and judges its client against the known answer `expectedHash`
   * (core/canary-mix.ts): right counts as a validated result for its trust, wrong drops its trust to
   * zero and sends the results it got accepted alone back to full quorum, as a wrong answer found by
   * replication does (see {@link judgeClients}). The canary itself stays as it was.
   */
  private recordCanary(c: CopyWithUnitRow, expectedHash: string, result: ReportedResult, reported: Reported, hasValidator: boolean, nowMs: number, deltas: CountDeltas): void {
    const { clientKey, clientHost } = voterColumns(result);
    this.q.recordCopy.run(O[reported.kind], nowMs, result.clientId ?? null, reported.hash ?? null, reported.error ?? null, result.durationMs ?? null, null, clientKey, clientHost, c.id);
    const verdict = canaryVerdict(reported.kind, reported.hash, expectedHash, hasValidator);
    if (verdict === "none" || clientKey === null) return;
    const key = clientKey === "" ? "anon" : clientKey;
    const trust = trustAfter((this.q.trustOf.get(c.distributor_id, key) as number | undefined) ?? 0, verdict);
    this.q.putTrust.run({ d: c.distributor_id, key, trust, validated: verdict === "validated" ? 1 : 0, wrong: verdict === "wrong" ? 1 : 0, now: nowMs });
    if (verdict === "wrong" && clientKey !== "") this.recheckAcceptedFrom(c.distributor_id, clientKey, nowMs, deltas);
  }

  /**
   * Whether an OK result from `clientKey` at distributor `distributor` may stand alone
   * (core/adaptive-replication.ts): its trust, weighed by its distributor's record
   * (core/distributor-trust.ts, read once per batch into `weights`), against a fresh draw.
   */
  private acceptsAlone(distributor: number, clientKey: string | null, weights: Map<number, number>): boolean {
    if (clientKey === null || clientKey === "") return false;
    const trust = (this.q.trustOf.get(distributor, clientKey) as number | undefined) ?? 0;
    if (trust === 0) return false;
    let weight = weights.get(distributor);
    if (weight === undefined) {
      const [validated, wrong] = this.q.distributorVerdicts.get(distributor) as [number, number];
      weights.set(distributor, (weight = distributorWeight({ validated, wrong })));
    }
    return acceptsAlone({ adaptive: true, keyed: true, trust: vouchedTrust(trust, weight), random: this.random() });
  }

  /**
   * Sends every unit accepted alone from a client (adaptive replication) back to full quorum: it
   * was just caught wrong, so its word alone proves nothing. Each such unit reopens in its round,
   * the lone copy still a vote, and asks for the copies quorum needs; its result leaves the log
   * until the unit is done again. Runs inside a transaction.
   */
  private recheckAcceptedFrom(distributor: number, clientKey: string, nowMs: number, deltas: CountDeltas): void {
    for (const seq of this.q.acceptedFrom.all(`${distributor}:${clientKey}`) as number[]) {
      const unit = this.q.unit.get(seq) as UnitRow;
      if (unitStateOf(unit.state) !== "done") continue;
      const project = this.q.project.get(unit.project_id) as ProjectRow;
      const tally = { pending: unit.pending, attempts: unit.attempts, repeatFailures: unit.repeat_failures, ...this.okTally(seq, unit.round) };
      const t = unitAfterSettingsChange(tally, { ...rulesOf(project), adaptiveReplication: false });
      // At most max_attempts: a unit with no attempt left still gets the one copy that can check it.
      this.q.reopenUnreplicated.run(Math.max(1, t.need), seq);
      deltas.move(unit.project_id, "done", "queued");
      this.q.reopen.run(nowMs, unit.project_id);
      this.effects.reopened += 1;
    }
  }

  /** Re-decides every open unit of a project after its quorum settings changed. */
  private redecideOpenUnits(projectId: number, s: ProjectSettings, hasValidator: boolean, nowMs: number): void {
    const deltas = new CountDeltas();
    for (const seq of this.q.openUnitIds.all(projectId) as number[]) {
      const unit = this.q.unit.get(seq) as UnitRow;
      const t = unitAfterSettingsChange({ pending: unit.pending, attempts: unit.attempts, repeatFailures: unit.repeat_failures, ...this.okTally(seq, unit.round) }, s);
      this.applyTransition(projectId, seq, unit.round, unitStateOf(unit.state), t, nowMs, deltas, undefined, undefined, hasValidator);
    }
    this.applyDeltas(deltas, nowMs);
  }

  private applyDeltas(deltas: CountDeltas, nowMs: number): void {
    for (const [projectId, row] of deltas.rows()) {
      this.q.applyCounts.run(...row, projectId);
      this.q.markDone.run(nowMs, projectId);
    }
  }

  private rules(cache: Map<number, Rules>, projectId: number): Rules {
    let r = cache.get(projectId);
    if (r === undefined) {
      const row = this.q.project.get(projectId) as ProjectRow;
      r = {
        replication: row.replication,
        quorum: row.quorum,
        maxAttempts: row.max_attempts,
        outputEncoding: row.output_encoding as PayloadEncoding,
        hasValidator: row.has_validator === 1,
        adaptiveReplication: row.adaptive_replication === 1,
      };
      cache.set(projectId, r);
    }
    return r;
  }

  private copyWithUnit(seq: number): CopyWithUnitRow | undefined {
    return this.q.copyWithUnit.get(seq) as CopyWithUnitRow | undefined;
  }

  /**
   * Up to `max` ready units of a project in lease order, read one by one until their inputs would
   * pass `budget.bytes` (which they use up); the first unit of a Lease (`first`) is taken whatever
   * its size. Rows past the budget are never read, so large inputs cost no memory here.
   */
  private readyRows(projectId: number, max: number, budget: { bytes: number }, first: boolean): ReadyUnitRow[] {
    const found = this.q.ready.iterate(projectId, max) as IterableIterator<ReadyUnitRow>;
    const { taken, bytes, cut } = takeWithinBytes(found, (row) => row.input.byteLength, budget.bytes, first);
    // A unit that did not fit ends the Lease: a smaller one behind it must not jump the order.
    budget.bytes = cut ? 0 : budget.bytes - bytes;
    return taken;
  }

  /**
   * Inserts one pending copy per ready unit and moves the units on (need − 1, one more attempt and
   * copy sent, running), each as one set-based statement. Returns the first copy's row id: the
   * copy of `rows[i]` is `first + i` (see {@link BatchStatement.insert}).
   */
  private leaseRows(rows: readonly ReadyUnitRow[], distributor: number, nowMs: number, deadlineMs: number): number {
    const values = new Array<unknown>(rows.length * 6);
    const unitSeqs = new Array<number>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const unit = rows[i]!;
      values[i * 6] = unit.id;
      values[i * 6 + 1] = unit.round;
      values[i * 6 + 2] = distributor;
      values[i * 6 + 3] = O.pending;
      values[i * 6 + 4] = nowMs;
      values[i * 6 + 5] = deadlineMs;
      unitSeqs[i] = unit.id;
    }
    const first = this.insertCopies.insert(values);
    this.q.leaseUnits.run(JSON.stringify(unitSeqs));
    return first;
  }

  private projectRow(id: string): ProjectRow {
    const seq = parseId("p", id);
    const row = seq === undefined ? undefined : (this.q.project.get(seq) as ProjectRow | undefined);
    if (row === undefined) throw new ProjectNotFoundError(id);
    return row;
  }

  /** Unit ids as row ids; throws UnitNotFoundError for ids that are not this project's units. */
  private unitSeqs(unitIds: readonly string[], projectId: number): number[] {
    return unitIds.map((id) => {
      const seq = parseId("u", id);
      const row = seq === undefined ? undefined : (this.q.unit.get(seq) as UnitRow | undefined);
      if (row === undefined || row.project_id !== projectId) throw new UnitNotFoundError(id);
      return row.id;
    });
  }
}

/**
 * The `client_key` and `client_host` columns of a reported copy. A result a distributor vouches for
 * (it names the client) from a keyless client has key "" (core/voter-tags.ts: one voter per
 * distributor); a result naming no client at all has NULL, an unknown voter that counts on its own.
 */
function voterColumns(result: ReportedResult): { clientKey: string | null; clientHost: string | null } {
  if (result.clientId === undefined && result.clientKey === undefined) return { clientKey: null, clientHost: null };
  return { clientKey: result.clientKey ?? "", clientHost: result.clientHost ?? null };
}

/** Notes that `clientId` failed a copy of unit `unitId`; false when it already had. */
function addFailedClient(failedClients: Map<number, Set<string>>, unitId: number, clientId: string): boolean {
  let failed = failedClients.get(unitId);
  if (failed === undefined) failedClients.set(unitId, (failed = new Set()));
  if (failed.has(clientId)) return false;
  failed.add(clientId);
  return true;
}

/** A project row's quorum settings. */
function rulesOf(row: ProjectRow): { replication: number; quorum: number; maxAttempts: number; adaptiveReplication: boolean } {
  return { replication: row.replication, quorum: row.quorum, maxAttempts: row.max_attempts, adaptiveReplication: row.adaptive_replication === 1 };
}

function parseToken(token: string): number {
  const value = Number(token);
  if (!Number.isSafeInteger(value) || value < 0) throw new InvalidArgumentError("page_token", "not a page token from this manager");
  return value;
}
