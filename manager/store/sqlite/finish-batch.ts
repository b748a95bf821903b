import type Database from "better-sqlite3";
import { BatchStatement, valuesList } from "../../../sqlite/batch-statement.js";
import { OUTCOME_CODE, UNIT_STATE_CODE } from "./codes.js";
import { resultFieldsMiddle, resultFieldsSql } from "./result-fields-sql.js";

/** One unit finished by an OK result of its pending copy, as {@link FinishBatch.write} takes it. */
export interface FastFinish {
  copySeq: number;
  unitSeq: number;
  projectSeq: number;
  clientId: string | null;
  /** Who computed it (see ReportedResult): the copy's `client_key` and `client_host`. */
  clientKey: string | null;
  clientHost: string | null;
  durationMs: number | null;
  /** The winning (canonical) output and its hash. */
  output: Uint8Array;
  hash: string;
  /** The unit's pending copies and attempts after the result. */
  pending: number;
  attempts: number;
}

/**
 * The writes of recordResults' common case as multi-row statements: an OK result for a pending copy
 * of an open unit that it alone finishes (quorum 1). For each such result it writes what the
 * one-result-at-a-time path writes: the copy's outcome, a result-log entry, the unit as done with
 * its output, result fields (see result-fields-sql.ts) and result cursor, and a notice when other
 * copies are still out.
 *
 * The caller gathers finishes and writes them before anything reads or writes those units again
 * (and before recording any other result, so result cursors keep report order), inside its
 * transaction. Holds statements only: a batch that fails leaves nothing behind for the next one.
 */
export class FinishBatch {
  readonly #copies: BatchStatement;
  readonly #results: BatchStatement;
  readonly #units: BatchStatement;
  readonly #notices: BatchStatement;

  constructor(db: Database.Database) {
    this.#copies = new BatchStatement(
      db,
      7,
      (n) =>
        `UPDATE copies SET outcome = ${OUTCOME_CODE.ok}, received_at = v.column2, client_id = v.column3, output_hash = v.column4,
         error = NULL, duration_ms = v.column5, output = NULL, client_key = v.column6, client_host = v.column7
         FROM (VALUES ${valuesList(n, 7)}) AS v WHERE copies.id = v.column1`,
    );
    this.#results = new BatchStatement(db, 2, (n) => `INSERT INTO results (project_id, unit_id) VALUES ${valuesList(n, 2)}`);
    this.#units = new BatchStatement(
      db,
      8,
      (n) =>
        `UPDATE units SET state = ${UNIT_STATE_CODE.done}, need = 0, pending = v.column2, attempts = v.column3, finished_at = v.column4,
         output = v.column5, output_hash = v.column6, result_seq = v.column7,
         result_fields = ${resultFieldsSql("units.input", "v.column8", "units.copies_sent")}
         FROM (VALUES ${valuesList(n, 8)}) AS v WHERE units.id = v.column1`,
    );
    this.#notices = new BatchStatement(db, 2, (n) => `INSERT INTO unit_notices (unit_id, at) VALUES ${valuesList(n, 2)}`);
  }

  /** Writes `finishes` (in order) at time `nowMs`. */
  write(finishes: readonly FastFinish[], nowMs: number): void {
    if (finishes.length === 0) return;
    const copies = new Array<unknown>(finishes.length * 7);
    const results = new Array<unknown>(finishes.length * 2);
    const notices: unknown[] = [];
    for (let i = 0; i < finishes.length; i++) {
      const f = finishes[i]!;
      copies[i * 7] = f.copySeq;
      copies[i * 7 + 1] = nowMs;
      copies[i * 7 + 2] = f.clientId;
      copies[i * 7 + 3] = f.hash;
      copies[i * 7 + 4] = f.durationMs;
      copies[i * 7 + 5] = f.clientKey;
      copies[i * 7 + 6] = f.clientHost;
      results[i * 2] = f.projectSeq;
      results[i * 2 + 1] = f.unitSeq;
      if (f.pending > 0) notices.push(f.unitSeq, nowMs);
    }
    this.#copies.run(copies);
    const firstSeq = this.#results.insert(results);
    const units = new Array<unknown>(finishes.length * 8);
    for (let i = 0; i < finishes.length; i++) {
      const f = finishes[i]!;
      units[i * 8] = f.unitSeq;
      units[i * 8 + 1] = f.pending;
      units[i * 8 + 2] = f.attempts;
      units[i * 8 + 3] = nowMs;
      units[i * 8 + 4] = f.output;
      units[i * 8 + 5] = f.hash;
      units[i * 8 + 6] = firstSeq + i;
      units[i * 8 + 7] = resultFieldsMiddle(f.output, f.hash, nowMs);
    }
    this.#units.run(units);
    if (notices.length > 0) this.#notices.run(notices);
  }
}
