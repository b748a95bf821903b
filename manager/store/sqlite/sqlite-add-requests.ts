import type Database from "better-sqlite3";
import { formatId } from "../../ids.js";

/** An AddUnits request id as stored: the unit ids it added (consecutive) and their digest. */
export interface StoredAddRequest {
  /** Row id of the first unit; the request added `firstUnit` … `firstUnit + units - 1`. */
  firstUnit: number;
  units: number;
  /** `unitBatchDigest` of the units it added. */
  digest: string;
}

/**
 * The `add_requests` table of the SQLite manager store: which AddUnits request ids a project has
 * stored. Callers run these inside the transaction that adds the units, so a request id is stored
 * exactly when its units are.
 */
export class SqliteAddRequests {
  readonly #find: Database.Statement;
  readonly #insert: Database.Statement;
  readonly #forget: Database.Statement;

  constructor(db: Database.Database) {
    this.#find = db.prepare("SELECT first_unit AS firstUnit, units, digest FROM add_requests WHERE project_id = ? AND request_id = ?");
    this.#insert = db.prepare("INSERT INTO add_requests (project_id, request_id, first_unit, units, digest, created_at) VALUES (?, ?, ?, ?, ?, ?)");
    this.#forget = db.prepare("DELETE FROM add_requests WHERE project_id = ?");
  }

  /** The request stored under this id in the project (row id), or undefined. */
  find(projectSeq: number, requestId: string): StoredAddRequest | undefined {
    return this.#find.get(projectSeq, requestId) as StoredAddRequest | undefined;
  }

  /** Stores a request id with the units it added. */
  remember(projectSeq: number, requestId: string, request: StoredAddRequest, nowMs: number): void {
    this.#insert.run(projectSeq, requestId, request.firstUnit, request.units, request.digest, nowMs);
  }

  /** Forgets every request id of a project (when it is deleted). */
  forget(projectSeq: number): void {
    this.#forget.run(projectSeq);
  }
}

/** The unit ids of a stored request, in the order they were added. */
export function unitIdsOf(request: Pick<StoredAddRequest, "firstUnit" | "units">): string[] {
  return Array.from({ length: request.units }, (_, i) => formatId("u", request.firstUnit + i));
}
