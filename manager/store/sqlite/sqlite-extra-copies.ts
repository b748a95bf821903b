import type Database from "better-sqlite3";
import { formatId, parseId } from "../../ids.js";
import type { ExtraCopyClaim } from "../store.js";
import { OUTCOME_CODE, UNIT_STATE_CODE } from "./codes.js";
import { CountDeltas } from "./count-deltas.js";

/** The leased copy an extra copy names, with what adopting an extra of it needs. */
interface OriginRow {
  distributor_id: number;
  unit_id: number;
  project_id: number;
  state: number;
  round: number;
  canary: number;
  lease_timeout_ms: number;
}

/**
 * The extra copies of the SQLite store (see {@link ManagerStore.adoptExtraCopies}): a copy row
 * opened for each extra a distributor made of a unit while cut off from its managers, and the
 * `extra_copies` map from the distributor's id for it to that row, so a Report sent again adopts
 * nothing twice. Shares the store's connection; `applyDeltas` writes the project counters.
 */
export class SqliteExtraCopies {
  private readonly q;

  constructor(
    private readonly db: Database.Database,
    private readonly applyDeltas: (deltas: CountDeltas, nowMs: number) => void,
  ) {
    const prepare = (sql: string) => db.prepare(sql);
    this.q = {
      adopted: prepare("SELECT copy_id FROM extra_copies WHERE distributor_id = ? AND extra_id = ?").pluck(),
      origin: prepare(
        `SELECT c.distributor_id, c.unit_id, u.project_id, u.state, u.round, u.canary_hash IS NOT NULL AS canary, p.lease_timeout_ms
         FROM copies c JOIN units u ON u.id = c.unit_id JOIN projects p ON p.id = u.project_id WHERE c.id = ?`,
      ),
      insertCopy: prepare("INSERT INTO copies (unit_id, round, distributor_id, outcome, sent_at, deadline) VALUES (?, ?, ?, ?, ?, ?)"),
      // As a leased copy: one more pending copy and attempt; it stands in for a copy the unit needs.
      openCopy: prepare(
        `UPDATE units SET need = max(need - 1, 0), pending = pending + 1, attempts = attempts + 1, copies_sent = copies_sent + 1, state = ${UNIT_STATE_CODE.running}
         WHERE id = ?`,
      ),
      remember: prepare("INSERT INTO extra_copies (distributor_id, extra_id, copy_id) VALUES (?, ?, ?)"),
    };
  }

  /**
   * Adopts `distributor`'s extra copies in one transaction: each whose leased copy was leased to
   * that distributor, of a unit still open (queued or running, not a canary), gets a pending copy
   * row in the unit's current round, due like a leased one. Resolves to extra copy id → the id of
   * its copy row (adopted now or by an earlier Report); extras not adopted are left out.
   */
  adopt(distributor: number, extras: readonly ExtraCopyClaim[], nowMs: number): Map<string, string> {
    return this.db.transaction(() => {
      const adopted = new Map<string, string>();
      const deltas = new CountDeltas();
      for (const { extraCopyId, extraOfCopyId } of extras) {
        const known = this.q.adopted.get(distributor, extraCopyId) as number | undefined;
        if (known !== undefined) {
          adopted.set(extraCopyId, formatId("c", known));
          continue;
        }
        const originSeq = parseId("c", extraOfCopyId);
        const origin = originSeq === undefined ? undefined : (this.q.origin.get(originSeq) as OriginRow | undefined);
        if (origin === undefined || origin.distributor_id !== distributor || origin.canary === 1) continue;
        if (origin.state !== UNIT_STATE_CODE.queued && origin.state !== UNIT_STATE_CODE.running) continue;
        const copySeq = Number(
          this.q.insertCopy.run(origin.unit_id, origin.round, distributor, OUTCOME_CODE.pending, nowMs, nowMs + origin.lease_timeout_ms).lastInsertRowid,
        );
        this.q.openCopy.run(origin.unit_id);
        this.q.remember.run(distributor, extraCopyId, copySeq);
        if (origin.state === UNIT_STATE_CODE.queued) deltas.move(origin.project_id, "queued", "running");
        deltas.copiesOut(origin.project_id, 1);
        adopted.set(extraCopyId, formatId("c", copySeq));
      }
      this.applyDeltas(deltas, nowMs);
      return adopted;
    })();
  }
}
