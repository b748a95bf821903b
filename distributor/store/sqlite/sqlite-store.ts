import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type {
  DistributorStore,
  GivenCopy,
  LeasedCopy,
  Registration,
  RenewedLease,
  StoreCounts,
  StoredProgram,
  StoreChange,
  StoredResult,
  StoreResultsOutcome,
  TakeReadyRequest,
} from "../store.js";
import { MAX_SKIPPED_PER_TAKE } from "../store.js";
import { StoreChanges } from "../store-changes.js";
import { takeWithinBytes } from "../../../core/byte-budget.js";
import { BatchStatement, placeholders, valuesList } from "../../../sqlite/batch-statement.js";
import { ReadyIndex } from "./ready-index.js";
import { SQLITE_SCHEMA, SQLITE_SCHEMA_VERSION } from "./sqlite-schema.js";

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /** Path of the database file (created with its folder when missing). */
  path: string;
}

interface HeldEntry {
  copyId: string;
  unitId: string;
  projectId: string;
  priority: number;
  seq: number;
  task: Uint8Array;
  leaseDeadlineMs: number;
  renewAtMs: number;
  clientId: string | undefined;
  clientDeadlineMs: number;
  queued: boolean;
  /** When a client was first refused this copy (see TakeReadyRequest.skipCopy); undefined: never, or given since. */
  refusedSinceMs: number | undefined;
}

interface HeldRow {
  copy_id: string;
  unit_id: string;
  project_id: string;
  priority: number;
  seq: number;
  task: Buffer;
  lease_deadline: number;
  renew_at: number;
}

/** A `results` row as an array: copy_id, unit_id, client_id, received_at, result. */
type ResultRow = [string, string, string, number, Buffer];

/** One takeReady batch's client lease (one entry per batch keeps the queue small at high rates). */
interface ClientLease {
  copyIds: string[];
  clientId: string;
  deadlineMs: number;
}

const SECRET_KEY = "secret";
const REGISTRATION_KEY = "registration";

/**
 * Opens (or creates) the distributor's SQLite store: WAL, `synchronous = NORMAL`, statements
 * prepared once, one transaction per batch. Held copies are mirrored in memory (ready order, copies
 * by unit and client-lease deadline) so handing out tasks never scans a table; SQLite is
 * the truth for what is held, assigned and received, and the mirror is rebuilt from it on open
 * (e.g. after a kill -9), with every held copy ready again.
 */
export function openSqliteStore(options: SqliteStoreOptions): DistributorStore {
  mkdirSync(dirname(options.path), { recursive: true });
  const db = new Database(options.path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = OFF");
  const version = db.pragma("user_version", { simple: true }) as number;
  if (version > SQLITE_SCHEMA_VERSION) {
    db.close();
    throw new Error(`distributor store ${options.path} has schema version ${version}, newer than ${SQLITE_SCHEMA_VERSION}`);
  }
  db.exec(SQLITE_SCHEMA);
  db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION}`);
  return new SqliteStore(db);
}

class SqliteStore implements DistributorStore {
  readonly #db: Database.Database;
  readonly #changes = new StoreChanges();
  readonly #held = new Map<string, HeldEntry>();
  readonly #byUnit = new Map<string, Set<string>>();
  readonly #ready = new ReadyIndex();
  readonly #readyByProject = new Map<string, number>();
  /** Client leases in the order they were given; deadlines grow since the lease length is fixed per process. */
  #expiry: ClientLease[] = [];
  #expiryHead = 0;
  #readyCount = 0;
  #heldBytes = 0;
  #resultCount = 0;
  #nextSeq = 1;

  readonly #insertHeld: BatchStatement;
  readonly #deleteHeld: BatchStatement;
  readonly #renewHeld;
  readonly #insertAssignments: BatchStatement;
  readonly #selectAssignment;
  readonly #pruneAssignments;
  readonly #forgetAssignments: BatchStatement;
  readonly #insertResults: BatchStatement;
  readonly #selectResults;
  readonly #deleteResults: BatchStatement;
  readonly #selectResultCopyIds;
  readonly #getMeta;
  readonly #putMeta;
  readonly #getProgram;
  readonly #putProgram;

  readonly #addTx;
  readonly #giveTx;
  readonly #storeTx;
  readonly #ackTx;
  readonly #dropTx;
  readonly #renewTx;
  readonly #forgetTx;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#insertHeld = new BatchStatement(
      db,
      8,
      (n) => `INSERT OR IGNORE INTO held (copy_id, unit_id, project_id, priority, seq, task, lease_deadline, renew_at) VALUES ${valuesList(n, 8)}`,
    );
    this.#deleteHeld = new BatchStatement(db, 1, (n) => `DELETE FROM held WHERE copy_id IN (${placeholders(n)})`);
    this.#renewHeld = db.prepare("UPDATE held SET lease_deadline = ?, renew_at = ? WHERE copy_id = ?");
    this.#insertAssignments = new BatchStatement(
      db,
      4,
      (n) => `INSERT OR REPLACE INTO assignments (copy_id, client_id, unit_id, given_at) VALUES ${valuesList(n, 4)}`,
    );
    this.#selectAssignment = db.prepare("SELECT unit_id FROM assignments WHERE copy_id = ? AND client_id = ?").pluck();
    this.#pruneAssignments = db.prepare("DELETE FROM assignments WHERE given_at < ?");
    this.#forgetAssignments = new BatchStatement(db, 1, (n) => `DELETE FROM assignments WHERE copy_id IN (${placeholders(n)})`);
    this.#insertResults = new BatchStatement(
      db,
      5,
      (n) => `INSERT OR IGNORE INTO results (copy_id, unit_id, client_id, received_at, result) VALUES ${valuesList(n, 5)}`,
    );
    // Rows as arrays: better-sqlite3 builds named-column objects at about twice the cost.
    this.#selectResults = db
      .prepare("SELECT copy_id, unit_id, client_id, received_at, result FROM results ORDER BY seq LIMIT ?")
      .raw(true);
    this.#deleteResults = new BatchStatement(db, 1, (n) => `DELETE FROM results WHERE copy_id IN (${placeholders(n)})`);
    this.#selectResultCopyIds = db.prepare("SELECT copy_id FROM results").pluck();
    this.#getMeta = db.prepare("SELECT value FROM meta WHERE key = ?").pluck();
    this.#putMeta = db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
    this.#getProgram = db.prepare("SELECT hash, source, signature FROM programs WHERE hash = ?");
    this.#putProgram = db.prepare("INSERT OR IGNORE INTO programs (hash, source, signature) VALUES (?, ?, ?)");

    this.#addTx = db.transaction((entries: HeldEntry[]) => {
      const values: unknown[] = [];
      for (const e of entries) values.push(e.copyId, e.unitId, e.projectId, e.priority, e.seq, e.task, e.leaseDeadlineMs, e.renewAtMs);
      this.#insertHeld.run(values);
    });
    this.#giveTx = db.transaction((entries: HeldEntry[], clientId: string, nowMs: number) => {
      const values: unknown[] = [];
      for (const e of entries) values.push(e.copyId, clientId, e.unitId, nowMs);
      this.#insertAssignments.run(values);
    });
    this.#storeTx = db.transaction((results: readonly StoredResult[]) => {
      const values: unknown[] = [];
      for (const r of results) values.push(r.copyId, r.unitId, r.clientId, r.receivedAtMs, r.result);
      const accepted = this.#insertResults.run(values);
      this.#deleteHeld.run(results.map((r) => r.copyId));
      return accepted;
    });
    this.#ackTx = db.transaction((copyIds: readonly string[]) => this.#deleteResults.run(copyIds));
    this.#dropTx = db.transaction((copyIds: string[]) => {
      this.#deleteHeld.run(copyIds);
    });
    this.#renewTx = db.transaction((renewed: RenewedLease[]) => {
      for (const r of renewed) this.#renewHeld.run(r.leaseDeadlineMs, r.renewAtMs, r.copyId);
    });
    this.#forgetTx = db.transaction((copyIds: readonly string[]) => this.#forgetAssignments.run(copyIds));
    this.#load();
  }

  onChange(listener: (change: StoreChange) => void): () => void {
    return this.#changes.listen(listener);
  }

  async addLeased(copies: readonly LeasedCopy[]): Promise<number> {
    const entries: HeldEntry[] = [];
    const inBatch = new Set<string>();
    for (const c of copies) {
      if (this.#held.has(c.copyId) || inBatch.has(c.copyId)) continue;
      inBatch.add(c.copyId);
      entries.push({
        copyId: c.copyId,
        unitId: c.unitId,
        projectId: c.projectId,
        priority: c.priority,
        seq: this.#nextSeq + entries.length,
        task: c.task,
        leaseDeadlineMs: c.leaseDeadlineMs,
        renewAtMs: c.renewAtMs,
        clientId: undefined,
        clientDeadlineMs: 0,
        queued: false,
        refusedSinceMs: undefined,
      });
    }
    this.#addTx(entries);
    this.#nextSeq += entries.length;
    for (const e of entries) {
      this.#index(e);
      this.#markReady(e, false);
    }
    if (entries.length > 0) this.#changes.emit({ kind: "ready" });
    return entries.length;
  }

  async takeReady(request: TakeReadyRequest): Promise<GivenCopy[]> {
    if (request.max <= 0) return [];
    const ids = this.#takeIds(request);
    const entries = this.#withinBytes(
      ids.map((id) => this.#held.get(id) as HeldEntry),
      request.maxBytes ?? Number.POSITIVE_INFINITY,
    );
    for (const e of entries) this.#unmarkReady(e);
    try {
      this.#giveTx(entries, request.clientId, request.nowMs);
    } catch (error) {
      for (const e of entries) this.#markReady(e, true);
      throw error;
    }
    if (entries.length > 0) {
      this.#expiry.push({ copyIds: entries.map((e) => e.copyId), clientId: request.clientId, deadlineMs: request.clientDeadlineMs });
    }
    return entries.map((e) => {
      e.clientId = request.clientId;
      e.clientDeadlineMs = request.clientDeadlineMs;
      e.refusedSinceMs = undefined;
      return { copyId: e.copyId, unitId: e.unitId, projectId: e.projectId, task: e.task, clientDeadlineMs: e.clientDeadlineMs };
    });
  }

  /**
   * Pops up to `request.max` ready ids off the index, leaving the copies `request.skipUnit` refuses
   * at the front of their buckets, in their order, for the next client.
   */
  #takeIds(request: TakeReadyRequest): string[] {
    const isReady = (copyId: string) => this.#held.get(copyId)?.queued === true;
    const seqOf = (copyId: string) => this.#held.get(copyId)?.seq ?? 0;
    const skipCopy = request.skipCopy;
    if (skipCopy === undefined) return this.#ready.take(request.max, request.skipProjects, isReady, seqOf);
    const out: string[] = [];
    const refused: HeldEntry[] = [];
    while (out.length < request.max && refused.length < MAX_SKIPPED_PER_TAKE) {
      const ids = this.#ready.take(Math.min(request.max - out.length, MAX_SKIPPED_PER_TAKE - refused.length), request.skipProjects, isReady, seqOf);
      if (ids.length === 0) break;
      for (const id of ids) {
        const e = this.#held.get(id) as HeldEntry;
        if (skipCopy({ copyId: e.copyId, unitId: e.unitId, refusedSinceMs: e.refusedSinceMs ?? request.nowMs })) {
          e.refusedSinceMs ??= request.nowMs;
          refused.push(e);
        } else out.push(id);
      }
    }
    for (let i = refused.length - 1; i >= 0; i--) {
      const e = refused[i] as HeldEntry;
      this.#ready.pushFront(e.projectId, e.priority, e.copyId);
    }
    return out;
  }

  async requeueClient(clientId: string, copyIds: Iterable<string>): Promise<number> {
    const ids: string[] = [];
    for (const copyId of copyIds) {
      if (this.#held.get(copyId)?.clientId === clientId) ids.push(copyId);
    }
    this.#requeue(ids);
    return ids.length;
  }

  async requeueExpiredClientLeases(nowMs: number): Promise<number> {
    const ids: string[] = [];
    while (this.#expiryHead < this.#expiry.length) {
      const lease = this.#expiry[this.#expiryHead] as ClientLease;
      if (lease.deadlineMs > nowMs) break;
      this.#expiryHead++;
      for (const copyId of lease.copyIds) {
        const e = this.#held.get(copyId);
        if (e !== undefined && e.clientId === lease.clientId && e.clientDeadlineMs === lease.deadlineMs) ids.push(copyId);
      }
    }
    if (this.#expiryHead > 1024 && this.#expiryHead * 2 > this.#expiry.length) {
      this.#expiry = this.#expiry.slice(this.#expiryHead);
      this.#expiryHead = 0;
    }
    this.#requeue(ids);
    return ids.length;
  }

  async wasGiven(clientId: string, copyIds: readonly string[]): Promise<Map<string, string>> {
    const given = new Map<string, string>();
    for (const copyId of copyIds) {
      const held = this.#held.get(copyId);
      if (held?.clientId === clientId) {
        given.set(copyId, held.unitId);
        continue;
      }
      const unitId = this.#selectAssignment.get(copyId, clientId) as string | undefined;
      if (unitId !== undefined) given.set(copyId, unitId);
    }
    return given;
  }

  async storeResults(results: readonly StoredResult[]): Promise<StoreResultsOutcome> {
    const accepted = this.#storeTx(results);
    for (const r of results) this.#forget(r.copyId);
    this.#resultCount += accepted;
    if (accepted > 0) this.#changes.emit({ kind: "results" });
    return { accepted, duplicates: results.length - accepted };
  }

  async pendingResults(limit: number): Promise<StoredResult[]> {
    const rows = this.#selectResults.all(limit) as ResultRow[];
    return rows.map(([copyId, unitId, clientId, receivedAtMs, result]) => ({
      copyId,
      unitId,
      clientId,
      receivedAtMs,
      result: new Uint8Array(result.buffer, result.byteOffset, result.byteLength),
    }));
  }

  async ackResults(copyIds: readonly string[]): Promise<number> {
    const deleted = this.#ackTx(copyIds);
    this.#resultCount -= deleted;
    return deleted;
  }

  async knownCopyIds(limit: number): Promise<string[] | undefined> {
    if (this.#held.size + this.#resultCount > limit) return undefined;
    return [...this.#held.keys(), ...(this.#selectResultCopyIds.all() as string[])];
  }

  async dropCopies(which: { unitIds?: readonly string[]; copyIds?: readonly string[] }): Promise<number> {
    const ids = new Set<string>();
    for (const copyId of which.copyIds ?? []) if (this.#held.has(copyId)) ids.add(copyId);
    for (const unitId of which.unitIds ?? []) for (const copyId of this.#byUnit.get(unitId) ?? []) ids.add(copyId);
    const list = [...ids];
    this.#dropTx(list);
    const given = list.filter((copyId) => this.#held.get(copyId)?.clientId !== undefined);
    for (const copyId of list) this.#forget(copyId);
    if (given.length > 0) this.#changes.emit({ kind: "dropped", copyIds: given });
    return list.length;
  }

  async dueForRenewal(nowMs: number, limit: number): Promise<string[]> {
    const due: string[] = [];
    for (const e of this.#held.values()) {
      if (due.length >= limit) break;
      if (e.renewAtMs <= nowMs) due.push(e.copyId);
    }
    return due;
  }

  async renewLeases(renewed: readonly RenewedLease[]): Promise<void> {
    const known = renewed.filter((r) => this.#held.has(r.copyId));
    this.#renewTx(known);
    for (const r of known) {
      const e = this.#held.get(r.copyId) as HeldEntry;
      e.leaseDeadlineMs = r.leaseDeadlineMs;
      e.renewAtMs = r.renewAtMs;
    }
  }

  async pruneAssignments(beforeMs: number): Promise<number> {
    return this.#pruneAssignments.run(beforeMs).changes;
  }

  async forgetAssignments(copyIds: readonly string[]): Promise<number> {
    return this.#forgetTx(copyIds);
  }

  async counts(skipProjects?: ReadonlySet<string>): Promise<StoreCounts> {
    let ready = this.#readyCount;
    for (const projectId of skipProjects ?? []) ready -= this.#readyByProject.get(projectId) ?? 0;
    return { held: this.#held.size, heldBytes: this.#heldBytes, ready, given: this.#held.size - this.#readyCount, results: this.#resultCount };
  }

  async ensureSecret(generate: () => Uint8Array): Promise<Uint8Array> {
    const stored = this.#getMeta.get(SECRET_KEY) as Buffer | undefined;
    if (stored !== undefined) return new Uint8Array(stored);
    const secret = generate();
    this.#putMeta.run(SECRET_KEY, Buffer.from(secret));
    return secret;
  }

  async loadRegistration(): Promise<Registration | undefined> {
    const stored = this.#getMeta.get(REGISTRATION_KEY) as Buffer | undefined;
    if (stored === undefined) return undefined;
    const parsed = JSON.parse(stored.toString("utf8")) as Omit<Registration, "managerPublicKey"> & { managerPublicKey: string };
    return { ...parsed, managerPublicKey: new Uint8Array(Buffer.from(parsed.managerPublicKey, "base64")) };
  }

  async saveRegistration(registration: Registration): Promise<void> {
    const json = JSON.stringify({ ...registration, managerPublicKey: Buffer.from(registration.managerPublicKey).toString("base64") });
    this.#putMeta.run(REGISTRATION_KEY, Buffer.from(json, "utf8"));
  }

  async getProgram(hash: string): Promise<StoredProgram | undefined> {
    const row = this.#getProgram.get(hash) as { hash: string; source: string; signature: Buffer } | undefined;
    return row === undefined ? undefined : { hash: row.hash, source: row.source, signature: new Uint8Array(row.signature) };
  }

  async putProgram(program: StoredProgram): Promise<void> {
    this.#putProgram.run(program.hash, program.source, Buffer.from(program.signature));
  }

  async otherProcesses(): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }

  #load(): void {
    const rows = this.#db.prepare("SELECT * FROM held ORDER BY seq").iterate() as IterableIterator<HeldRow>;
    for (const row of rows) {
      const e: HeldEntry = {
        copyId: row.copy_id,
        unitId: row.unit_id,
        projectId: row.project_id,
        priority: row.priority,
        seq: row.seq,
        task: new Uint8Array(row.task.buffer, row.task.byteOffset, row.task.byteLength),
        leaseDeadlineMs: row.lease_deadline,
        renewAtMs: row.renew_at,
        clientId: undefined,
        clientDeadlineMs: 0,
        queued: false,
        refusedSinceMs: undefined,
      };
      this.#index(e);
      this.#nextSeq = Math.max(this.#nextSeq, e.seq + 1);
      this.#markReady(e, false);
    }
    this.#resultCount = this.#db.prepare("SELECT COUNT(*) FROM results").pluck().get() as number;
  }

  #index(e: HeldEntry): void {
    this.#held.set(e.copyId, e);
    this.#heldBytes += e.task.byteLength;
    let copies = this.#byUnit.get(e.unitId);
    if (copies === undefined) {
      copies = new Set();
      this.#byUnit.set(e.unitId, copies);
    }
    copies.add(e.copyId);
  }

  /**
   * The first of `entries` (taken off the ready index, still marked ready) whose tasks fit `maxBytes`
   * (at least one); the others go back to the front of the index, in their order.
   */
  #withinBytes(entries: HeldEntry[], maxBytes: number): HeldEntry[] {
    const { taken } = takeWithinBytes(entries, (e) => e.task.byteLength, maxBytes);
    for (let i = entries.length - 1; i >= taken.length; i--) {
      const e = entries[i] as HeldEntry;
      this.#ready.pushFront(e.projectId, e.priority, e.copyId);
    }
    return taken;
  }

  #markReady(e: HeldEntry, front: boolean): void {
    e.queued = true;
    this.#readyCount++;
    this.#readyByProject.set(e.projectId, (this.#readyByProject.get(e.projectId) ?? 0) + 1);
    if (front) this.#ready.pushFront(e.projectId, e.priority, e.copyId);
    else this.#ready.push(e.projectId, e.priority, e.copyId);
  }

  #unmarkReady(e: HeldEntry): void {
    e.queued = false;
    this.#readyCount--;
    const left = (this.#readyByProject.get(e.projectId) ?? 1) - 1;
    if (left === 0) this.#readyByProject.delete(e.projectId);
    else this.#readyByProject.set(e.projectId, left);
  }

  #releaseClient(e: HeldEntry): void {
    e.clientId = undefined;
    e.clientDeadlineMs = 0;
  }

  #requeue(copyIds: string[]): void {
    for (const copyId of copyIds) {
      const e = this.#held.get(copyId);
      if (e === undefined) continue;
      this.#releaseClient(e);
      this.#markReady(e, true);
    }
    if (copyIds.length > 0) this.#changes.emit({ kind: "ready" });
  }

  #forget(copyId: string): void {
    const e = this.#held.get(copyId);
    if (e === undefined) return;
    if (e.queued) this.#unmarkReady(e);
    this.#releaseClient(e);
    this.#held.delete(copyId);
    this.#heldBytes -= e.task.byteLength;
    const copies = this.#byUnit.get(e.unitId);
    copies?.delete(copyId);
    if (copies?.size === 0) this.#byUnit.delete(e.unitId);
  }
}
