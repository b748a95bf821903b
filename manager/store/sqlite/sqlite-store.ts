import { randomUUID } from "node:crypto";
import Database from "better-sqlite3";
import { takeWithinBytes } from "../../../core/byte-budget.js";
import { InvalidArgumentError } from "../../../core/errors.js";
import { compareProjectsForLease } from "../../../core/lease-order.js";
import { isPastDeadline } from "../../../core/project-deadline.js";
import type { PayloadEncoding } from "../../../core/project-settings.js";
import { isFinalUnitState, type UnitState } from "../../../core/unit-transitions.js";
import { ordinaryRoom } from "../../../core/canary-mix.js";
import { initialCopies } from "../../../core/quorum.js";
import { ProjectStateError, RequestIdReusedError, UnitNotFoundError } from "../../errors.js";
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
import { LocalStoreWakeups } from "../store-changes.js";
import { BatchStatement, valuesList } from "../../../sqlite/batch-statement.js";
import { CountDeltas } from "./count-deltas.js";
import { FinishBatch } from "./finish-batch.js";
import { CANARY_STATE, OUTCOME_CODE, PROJECT_STATE_CODE, UNIT_STATE_CODE, unitStateOf } from "./codes.js";
import { applySchema, SCHEMA_VERSION } from "./schema.js";
import { unitBatchDigest } from "../unit-batch-digest.js";
import { SqliteAddRequests, unitIdsOf } from "./sqlite-add-requests.js";
import { SqliteCanaries } from "./sqlite-canaries.js";
import { SqliteCopyEnds } from "./sqlite-copy-ends.js";
import { SqliteDistributors } from "./sqlite-distributors.js";
import { projectRowOf, SqliteProjects } from "./sqlite-projects.js";
import { SqliteResults } from "./sqlite-results.js";
import { rulesOf, SqliteUnitWrites, type Queries } from "./sqlite-unit-writes.js";
import { SqliteValidations } from "./sqlite-validations.js";
import { prepareQueries } from "./queries.js";
import { toCopy, toProject, toUnit, type CopyRow, type CopyWithUnitRow, type ProjectRow, type ReadyUnitRow, type UnitRow } from "./rows.js";

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

/**
 * The better-sqlite3 backend of {@link ManagerStore}. Statements are prepared once; every public
 * operation is one transaction. Unit counters on `projects` move in the same transactions.
 */
export class SqliteStore implements ManagerStore {
  readonly kind = "sqlite";
  /** Emitted after each commit: every writer of the file is this process. */
  readonly changes = new LocalStoreWakeups();
  private readonly distributors: SqliteDistributors;
  private readonly q: Queries;
  private readonly insertUnits: BatchStatement;
  private readonly insertCopies: BatchStatement;
  private readonly addRequests: SqliteAddRequests;
  private readonly canaries: SqliteCanaries;
  private readonly copyEnds: SqliteCopyEnds;
  private readonly projects: SqliteProjects;
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
    const cancelled = await this.projects.cancelUnits(projectId, unitIds, nowMs);
    this.changes.emit("unitsFinished");
    return cancelled;
  }

  async requeueUnits(projectId: string, select: { unitIds: readonly string[] } | { state: UnitState }, nowMs: number): Promise<number> {
    const requeued = await this.projects.requeueUnits(projectId, select, nowMs);
    this.changes.emit("unitsReady");
    return requeued;
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
        this.canaries.mix(tasks, tasks.length - rows.length, max, p, distributor, nowMs, deadlineMs, budget);
      }
      this.writes.applyDeltas(deltas, nowMs);
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
        const c = seq === undefined ? undefined : (this.q.copyWithUnit.get(seq) as CopyWithUnitRow | undefined);
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
    const released = this.db.transaction(() => {
      const seqs: number[] = [];
      for (const copyId of copyIds) {
        const seq = parseId("c", copyId);
        const c = seq === undefined ? undefined : (this.q.copyWithUnit.get(seq) as CopyWithUnitRow | undefined);
        if (c !== undefined && c.outcome === O.pending && c.distributor_id === distributor) seqs.push(c.id);
      }
      return this.copyEnds.release(seqs, nowMs).released;
    })();
    if (released > 0) this.changes.emit("unitsReady");
    return released;
  }

  async recordResults(distributorId: string, results: readonly ReportedResult[], nowMs: number): Promise<RecordResultsOutcome> {
    const distributor = parseId("d", distributorId) ?? 0;
    const outcome = this.db.transaction(() => this.results.record(distributor, results, nowMs))();
    if (outcome.unitsReopened) this.changes.emit("unitsReady");
    if (outcome.unitsFinished > 0) this.changes.emit("unitsFinished");
    return outcome;
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

  async listResults(
    projectId: string,
    cursor: string,
    limit: number,
    maxBytes = Number.POSITIVE_INFINITY,
  ): Promise<{ results: ResultRecord[]; nextCursor: string; more: boolean }> {
    const project = this.projectRow(projectId);
    const after = cursor === "" ? 0 : Number(cursor);
    if (!Number.isSafeInteger(after) || after < 0) throw new InvalidArgumentError("cursor", "not a cursor from this manager");
    type ResultRow = {
      seq: number;
      unit_id: number;
      input: Buffer;
      output: Buffer;
      output_hash: string;
      finished_at: number;
      copies_sent: number;
      self_agreement: number;
      unreplicated: number;
    };
    const found = this.q.results.iterate(project.id, after, limit) as IterableIterator<ResultRow>;
    const { taken: rows, cut } = takeWithinBytes(found, (row) => row.input.byteLength + row.output.byteLength, maxBytes);
    const more = cut || rows.length === limit;
    const id = formatId("p", project.id);
    const results = rows.map((row) => ({
      unitId: formatId("u", row.unit_id),
      projectId: id,
      input: row.input,
      output: row.output,
      outputHash: row.output_hash,
      finishedAtMs: row.finished_at,
      copiesSent: row.copies_sent,
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

  /** Releases pending copies (by row id): no attempt used, units re-decided. Runs inside a transaction. */
  /** The copies (with their units) of a batch, by copy row id; one statement. Unknown ids are absent. */
  /** The round's OK copies as quorum counts them: output hashes and voter tags (see core/voter-tags.ts). */
  /** A round's OK copies as the validator sees them: output hashes and classes. */
  /** Marks invalid the round's OK copies that vote for another class than `winningHash`. */
  /** Re-decides every open unit of a project after its quorum settings changed. */
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

  /** Emits `unitsReady` when `copies` (given back) is not 0; returns it. */
  private readyIf(copies: number): number {
    if (copies > 0) this.changes.emit("unitsReady");
    return copies;
  }

  private projectRow(id: string): ProjectRow {
    return projectRowOf(this.q, id);
  }

}

/** Notes that `clientId` failed a copy of unit `unitId`; false when it already had. */
/** A project row's quorum settings. */
function parseToken(token: string): number {
  const value = Number(token);
  if (!Number.isSafeInteger(value) || value < 0) throw new InvalidArgumentError("page_token", "not a page token from this manager");
  return value;
}
