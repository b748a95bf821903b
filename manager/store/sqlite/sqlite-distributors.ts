import type Database from "better-sqlite3";
import { DistributorNotFoundError, NameTakenError } from "../../errors.js";
import { formatId, parseId } from "../../ids.js";
import type { ClientLifespan, ClientSessionRecord, CopyAssignment, DistributorLoad, DistributorRecord } from "../store.js";

interface DistributorRow {
  id: number;
  name: string;
  region: string;
  created_at: number;
  registered_at: number | null;
  last_seen: number | null;
  revoked: number;
  draining: number;
  public_url: string;
  capacity: number;
  version: string;
  held_copies: number;
  clients: number;
  buffered_results: number;
  free_slots: number;
  notice_seq: number;
}

/** Client sessions kept for lifespan statistics; older ones are dropped as new ones arrive. */
const MAX_SESSIONS = 100_000;

/**
 * The distributor half of the SQLite store: identities, registration, heartbeats (load, client
 * sessions, unit-finish notices), revocation and draining. Shares the store's connection;
 * `release` gives a revoked distributor's pending copies back through the store's unit logic.
 */
export class SqliteDistributors {
  private readonly q;

  constructor(
    private readonly db: Database.Database,
    private readonly release: (copySeqs: readonly number[], nowMs: number) => { released: number },
  ) {
    const prepare = (sql: string) => db.prepare(sql);
    this.q = {
      byName: prepare("SELECT id FROM distributors WHERE name = ?").pluck(),
      insert: prepare(
        "INSERT INTO distributors (name, region, token_hash, created_at, notice_seq) VALUES (?, ?, ?, ?, (SELECT coalesce(max(seq), 0) FROM unit_notices))",
      ),
      get: prepare("SELECT * FROM distributors WHERE id = ?"),
      byTokenHash: prepare("SELECT * FROM distributors WHERE token_hash = ?"),
      list: prepare("SELECT * FROM distributors ORDER BY id"),
      register: prepare("UPDATE distributors SET public_url = ?, region = ?, capacity = ?, version = ?, registered_at = ?, last_seen = ? WHERE id = ?"),
      touch: prepare("UPDATE distributors SET last_seen = ? WHERE id = ?"),
      load: prepare(
        "UPDATE distributors SET held_copies = ?, clients = ?, buffered_results = ?, free_slots = ?, last_seen = ?, notice_seq = ? WHERE id = ?",
      ),
      notices: prepare("SELECT seq, unit_id FROM unit_notices WHERE seq > ? ORDER BY seq LIMIT ?"),
      insertSession: prepare(
        "INSERT INTO client_sessions (distributor_id, client_id, platform, join_at, last_seen_at, results) VALUES (?, ?, ?, ?, ?, ?)",
      ),
      trimSessions: prepare("DELETE FROM client_sessions WHERE id <= (SELECT max(id) FROM client_sessions) - ?"),
      lifespans: prepare("SELECT platform, last_seen_at - join_at AS lifespanMs FROM client_sessions ORDER BY id DESC LIMIT ?"),
      lifespansByDistributor: prepare("SELECT distributor_id AS d, last_seen_at - join_at AS ms FROM client_sessions ORDER BY id DESC LIMIT ?"),
      revoke: prepare("UPDATE distributors SET revoked = 1 WHERE id = ?"),
      drain: prepare("UPDATE distributors SET draining = 1 WHERE id = ?"),
      pendingCopies: prepare("SELECT id FROM copies WHERE distributor_id = ? AND outcome = 1").pluck(),
      giveCopy: prepare("UPDATE copies SET client_id = ? WHERE id = ? AND distributor_id = ? AND outcome = 1"),
      pruneNotices: prepare("DELETE FROM unit_notices WHERE at < ?"),
    };
  }

  async create(d: { name: string; region: string; tokenHash: string }, nowMs: number): Promise<DistributorRecord> {
    return this.db.transaction(() => {
      if (this.q.byName.get(d.name) !== undefined) throw new NameTakenError("distributor", d.name);
      const info = this.q.insert.run(d.name, d.region, d.tokenHash, nowMs);
      return toDistributor(this.q.get.get(info.lastInsertRowid) as DistributorRow);
    })();
  }

  async byTokenHash(tokenHash: string): Promise<DistributorRecord | undefined> {
    const row = this.q.byTokenHash.get(tokenHash) as DistributorRow | undefined;
    return row && toDistributor(row);
  }

  async get(id: string): Promise<DistributorRecord> {
    return toDistributor(this.row(id));
  }

  async list(): Promise<DistributorRecord[]> {
    return (this.q.list.all() as DistributorRow[]).map(toDistributor);
  }

  async register(id: string, r: { publicUrl: string; region: string; capacity: number; version: string }, nowMs: number): Promise<DistributorRecord> {
    const row = this.row(id);
    this.q.register.run(r.publicUrl, r.region || row.region, r.capacity, r.version, nowMs, nowMs, row.id);
    return toDistributor(this.q.get.get(row.id) as DistributorRow);
  }

  /** Marks a distributor as heard from; part of the caller's transaction. */
  touch(seq: number, nowMs: number): void {
    this.q.touch.run(nowMs, seq);
  }

  async heartbeat(
    id: string,
    load: DistributorLoad,
    sessions: readonly ClientSessionRecord[],
    nowMs: number,
    limit: number,
    givenCopies: readonly CopyAssignment[] = [],
  ): Promise<{ finishedUnitIds: string[] }> {
    return this.db.transaction(() => {
      const row = this.row(id);
      const notices = this.q.notices.all(row.notice_seq, limit) as Array<{ seq: number; unit_id: number }>;
      const noticeSeq = notices.length > 0 ? notices[notices.length - 1]!.seq : row.notice_seq;
      this.q.load.run(load.heldCopies, load.clients, load.bufferedResults, load.freeSlots, nowMs, noticeSeq, row.id);
      for (const s of sessions) {
        this.q.insertSession.run(row.id, s.clientId, s.platform, s.joinMs, Math.max(s.joinMs, s.lastSeenMs), s.results);
      }
      if (sessions.length > 0) this.q.trimSessions.run(MAX_SESSIONS);
      for (const g of givenCopies) this.q.giveCopy.run(g.clientId, parseId("c", g.copyId) ?? 0, row.id);
      return { finishedUnitIds: [...new Set(notices.map((n) => formatId("u", n.unit_id)))] };
    })();
  }

  async revoke(id: string, nowMs: number): Promise<number> {
    return this.db.transaction(() => {
      const row = this.row(id);
      this.q.revoke.run(row.id);
      return this.release(this.q.pendingCopies.all(row.id) as number[], nowMs).released;
    })();
  }

  async releaseUnheld(id: string, heldCopyIds: readonly string[], nowMs: number): Promise<number> {
    const held = new Set(heldCopyIds.map((copyId) => parseId("c", copyId)));
    return this.db.transaction(() => {
      const row = this.row(id);
      const unheld = (this.q.pendingCopies.all(row.id) as number[]).filter((seq) => !held.has(seq));
      return this.release(unheld, nowMs).released;
    })();
  }

  async drain(id: string): Promise<DistributorRecord> {
    const row = this.row(id);
    this.q.drain.run(row.id);
    return toDistributor(this.q.get.get(row.id) as DistributorRow);
  }

  async recentLifespans(limit: number): Promise<ClientLifespan[]> {
    return this.q.lifespans.all(limit) as ClientLifespan[];
  }

  async recentLifespansByDistributor(limit: number): Promise<Map<string, number[]>> {
    const byDistributor = new Map<string, number[]>();
    for (const { d, ms } of this.q.lifespansByDistributor.all(limit) as { d: number; ms: number }[]) {
      const id = formatId("d", d);
      const list = byDistributor.get(id) ?? [];
      list.push(ms);
      byDistributor.set(id, list);
    }
    return byDistributor;
  }

  async pruneNotices(beforeMs: number): Promise<void> {
    this.q.pruneNotices.run(beforeMs);
  }

  private row(id: string): DistributorRow {
    const seq = parseId("d", id);
    const row = seq === undefined ? undefined : (this.q.get.get(seq) as DistributorRow | undefined);
    if (row === undefined) throw new DistributorNotFoundError(id);
    return row;
  }
}

function toDistributor(row: DistributorRow): DistributorRecord {
  return {
    id: formatId("d", row.id),
    name: row.name,
    region: row.region,
    publicUrl: row.public_url,
    capacity: row.capacity,
    version: row.version,
    createdAtMs: row.created_at,
    registeredAtMs: row.registered_at ?? undefined,
    lastSeenMs: row.last_seen ?? undefined,
    revoked: row.revoked === 1,
    draining: row.draining === 1,
    heldCopies: row.held_copies,
    clients: row.clients,
    bufferedResults: row.buffered_results,
    freeSlots: row.free_slots,
  };
}
