import { randomUUID } from "node:crypto";
import Database from "better-sqlite3";
import type { UnitState } from "../../../core/unit-transitions.js";
import { initialCopies } from "../../../core/quorum.js";
import { ProjectStateError, RequestIdReusedError } from "../../errors.js";
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
  ExtraCopyClaim,
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
import { LocalStoreWakeups } from "../store-changes.js";
import { BatchStatement, valuesList } from "../../../sqlite/batch-statement.js";
import { FinishBatch } from "./finish-batch.js";
import { CANARY_STATE, PROJECT_STATE_CODE, UNIT_STATE_CODE } from "./codes.js";
import { applySchema, SCHEMA_VERSION } from "./schema.js";
import { unitBatchDigest } from "../unit-batch-digest.js";
import { SqliteAddRequests, unitIdsOf } from "./sqlite-add-requests.js";
import { SqliteCanaries } from "./sqlite-canaries.js";
import { SqliteCopyEnds } from "./sqlite-copy-ends.js";
import { SqliteDistributors } from "./sqlite-distributors.js";
import { SqliteLeases } from "./sqlite-leases.js";
import { SqliteReads } from "./sqlite-reads.js";
import { projectRowOf, SqliteProjects } from "./sqlite-projects.js";
import { SqliteResults } from "./sqlite-results.js";
import { rulesOf, SqliteUnitWrites, type Queries } from "./sqlite-unit-writes.js";
import { SqliteValidations } from "./sqlite-validations.js";
import { SqliteExtraCopies } from "./sqlite-extra-copies.js";
import { prepareQueries } from "./queries.js";
import type { ProjectRow } from "./rows.js";

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
const P = PROJECT_STATE_CODE;

/**
 * The better-sqlite3 backend of {@link ManagerStore}. Statements are prepared once; every public
 * operation is one transaction. Unit counters on `projects` move in the same transactions. The
 * operations live in parts named after what they hold (sqlite-projects, -leases, -results,
 * -validations, -copy-ends, -canaries, -reads, -distributors), which apply the write plans of
 * core/result-plan.ts through sqlite-unit-writes.ts; this class wires them and emits the store's
 * wake-ups after each commit.
 */
export class SqliteStore implements ManagerStore {
  readonly kind = "sqlite";
  /** Emitted after each commit: every writer of the file is this process. */
  readonly changes = new LocalStoreWakeups();
  private readonly distributors: SqliteDistributors;
  private readonly extraCopies: SqliteExtraCopies;
  private readonly q: Queries;
  private readonly insertUnits: BatchStatement;
  private readonly insertCopies: BatchStatement;
  private readonly addRequests: SqliteAddRequests;
  private readonly canaries: SqliteCanaries;
  private readonly copyEnds: SqliteCopyEnds;
  private readonly projects: SqliteProjects;
  private readonly leases: SqliteLeases;
  private readonly reads: SqliteReads;
  private readonly results: SqliteResults;
  private readonly validations: SqliteValidations;
  private readonly writes: SqliteUnitWrites;

  constructor(
    private readonly db: Database.Database,
    batchFinishes = true,
    random: () => number = Math.random,
  ) {
    this.q = prepareQueries(db);
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
    this.addRequests = new SqliteAddRequests(db);
    this.writes = new SqliteUnitWrites(this.q);
    this.canaries = new SqliteCanaries(this.q, this.insertCopies, this.writes, random);
    this.copyEnds = new SqliteCopyEnds(this.q, this.writes);
    this.validations = new SqliteValidations(this.q, this.writes);
    this.projects = new SqliteProjects(db, this.q, this.writes, this.validations, this.addRequests);
    this.results = new SqliteResults(this.q, new FinishBatch(db), this.writes, this.canaries, random, batchFinishes);
    this.distributors = new SqliteDistributors(db, (copySeqs, nowMs) => this.copyEnds.release(copySeqs, nowMs));
    this.leases = new SqliteLeases(db, this.q, this.insertCopies, this.canaries, this.writes, this.copyEnds, this.distributors);
    this.reads = new SqliteReads(db, this.q);
    this.extraCopies = new SqliteExtraCopies(db, (deltas, nowMs) => this.writes.applyDeltas(deltas, nowMs));
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
    const project = await this.projects.create(p);
    if (project.state === "active") this.changes.emit("unitsReady");
    return project;
  }

  async updateProject(id: string, change: ProjectChange, nowMs: number): Promise<ProjectRecord> {
    const project = await this.projects.update(id, change, nowMs);
    this.changes.emit("unitsReady");
    return project;
  }

  async deleteProject(id: string): Promise<number> {
    const units = await this.projects.delete(id);
    this.changes.emit("unitsFinished");
    return units;
  }

  async addUnits(projectId: string, units: readonly NewUnit[], nowMs: number): Promise<string[]> {
    const unitIds = this.db.transaction(() => {
      const firstUnit = this.insertUnitBatch(this.projectRow(projectId), units, nowMs);
      return unitIdsOf({ firstUnit, units: units.length });
    })();
    this.changes.emit("unitsReady");
    return unitIds;
  }

  async addUnitsOnce(projectId: string, requestId: string, units: readonly NewUnit[], nowMs: number): Promise<AddedUnits> {
    const digest = unitBatchDigest(units);
    const added = this.db.transaction(() => {
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
    if (!added.alreadyStored) this.changes.emit("unitsReady");
    return added;
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

  async cancelUnits(projectId: string, unitIds: readonly string[] | undefined, nowMs: number): Promise<number> {
    const cancelled = await this.projects.cancelUnits(projectId, unitIds, nowMs);
    this.changes.emit("unitsFinished");
    return cancelled;
  }

  async requeueUnits(projectId: string, select: { unitIds: readonly string[] } | { state: UnitState }, nowMs: number): Promise<number> {
    const requeued = await this.projects.requeueUnits(projectId, select, nowMs);
    this.changes.emit("unitsReady");
    return requeued;
  }

  leaseCopies(distributorId: string, max: number, nowMs: number, maxInputBytes?: number): Promise<LeasedTask[]> {
    return this.leases.leaseCopies(distributorId, max, nowMs, maxInputBytes);
  }
  renewCopies(distributorId: string, copyIds: readonly string[], nowMs: number): Promise<{ renewed: Array<{ copyId: string; deadlineMs: number }>; lost: string[] }> {
    return this.leases.renewCopies(distributorId, copyIds, nowMs);
  }
  releaseCopies(distributorId: string, copyIds: readonly string[], nowMs: number): Promise<number> {
    return this.leases.releaseCopies(distributorId, copyIds, nowMs).then((released) => this.readyIf(released));
  }

  async recordResults(distributorId: string, results: readonly ReportedResult[], nowMs: number): Promise<RecordResultsOutcome> {
    const distributor = parseId("d", distributorId) ?? 0;
    const outcome = this.db.transaction(() => this.results.record(distributor, results, nowMs))();
    if (outcome.unitsReopened) this.changes.emit("unitsReady");
    if (outcome.unitsFinished > 0) this.changes.emit("unitsFinished");
    return outcome;
  }

  async adoptExtraCopies(distributorId: string, extras: readonly ExtraCopyClaim[], nowMs: number): Promise<Map<string, string>> {
    const distributor = parseId("d", distributorId);
    return distributor === undefined || extras.length === 0 ? new Map() : this.extraCopies.adopt(distributor, extras, nowMs);
  }

  async validationWork(limit: number): Promise<ValidationTask[]> {
    return this.validations.work(limit);
  }

  async applyValidations(verdicts: readonly ValidationVerdict[], nowMs: number): Promise<ValidationsApplied> {
    const applied = this.db.transaction(() => this.validations.apply(verdicts, nowMs))();
    if (applied.unitsReopened) this.changes.emit("unitsReady");
    if (applied.unitsFinished > 0) this.changes.emit("unitsFinished");
    return applied;
  }

  async requeueExpired(nowMs: number, limit: number): Promise<{ timedOut: number; unitsReopened: boolean; unitsFinished: number }> {
    const expired = this.db.transaction(() => this.copyEnds.requeueExpired(nowMs, limit))();
    if (expired.unitsReopened) this.changes.emit("unitsReady");
    if (expired.unitsFinished > 0) this.changes.emit("unitsFinished");
    return expired;
  }

  async expireProjects(nowMs: number): Promise<string[]> {
    const expired = await this.projects.expire(nowMs);
    if (expired.length > 0) this.changes.emit("unitsFinished");
    return expired;
  }

  getProject(id: string): Promise<ProjectRecord> {
    return this.reads.getProject(id);
  }
  listProjects(page: { limit: number; pageToken?: string }): Promise<{ projects: ProjectRecord[]; nextPageToken: string }> {
    return this.reads.listProjects(page);
  }
  listUnits(projectId: string, page: { state?: UnitState; limit: number; pageToken?: string; maxBytes?: number }): Promise<{ units: UnitRecord[]; nextPageToken: string }> {
    return this.reads.listUnits(projectId, page);
  }
  getUnit(id: string): Promise<UnitRecord & { copies: CopyRecord[] }> {
    return this.reads.getUnit(id);
  }
  listResults(projectId: string, cursor: string, limit: number, maxBytes?: number): Promise<{ results: ResultRecord[]; nextCursor: string; more: boolean }> {
    return this.reads.listResults(projectId, cursor, limit, maxBytes);
  }
  latestResultsCursor(projectId: string, count: number): Promise<string> {
    return this.reads.latestResultsCursor(projectId, count);
  }
  computingCounts(): Promise<Map<string, { copies: number; units: number }>> {
    return this.reads.computingCounts();
  }
  listClients(limit: number): Promise<ClientTrustRecord[]> {
    return this.reads.listClients(limit);
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
    return this.distributors.releaseUnheld(id, heldCopyIds, nowMs).then((released) => this.readyIf(released));
  }
  revokeDistributor(id: string, nowMs: number): Promise<number> {
    return this.distributors.revoke(id, nowMs).then((requeued) => this.readyIf(requeued));
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

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** Emits `unitsReady` when `copies` (given back) is not 0; returns it. */
  private readyIf(copies: number): number {
    if (copies > 0) this.changes.emit("unitsReady");
    return copies;
  }

  private projectRow(id: string): ProjectRow {
    return projectRowOf(this.q, id);
  }
}
