import type Database from "better-sqlite3";
import { takeWithinBytes } from "../../../core/byte-budget.js";
import { InvalidArgumentError } from "../../../core/errors.js";
import type { UnitState } from "../../../core/unit-transitions.js";
import { UnitNotFoundError } from "../../errors.js";
import { formatId, parseId } from "../../ids.js";
import type { ClientTrustRecord, CopyRecord, ProjectRecord, ResultRecord, UnitRecord } from "../store.js";
import { CANARY_STATE, OUTCOME_CODE as O, UNIT_STATE_CODE as S } from "./codes.js";
import { toCopy, toProject, toUnit, type CopyRow, type ProjectRow, type UnitRow } from "./rows.js";
import { projectRowOf } from "./sqlite-projects.js";
import type { Queries } from "./sqlite-unit-writes.js";

/** The manager store's read-only queries in SQLite: projects, units, results, clients, copies being computed. */
export class SqliteReads {
  constructor(
    private readonly db: Database.Database,
    private readonly q: Queries,
  ) {}

  /** See `ManagerStore.getProject`. */
  async getProject(id: string): Promise<ProjectRecord> {
    return toProject(projectRowOf(this.q, id));
  }

  /** See `ManagerStore.listProjects`. */
  async listProjects(page: { limit: number; pageToken?: string }): Promise<{ projects: ProjectRecord[]; nextPageToken: string }> {
    const before = page.pageToken ? parseToken(page.pageToken) : Number.MAX_SAFE_INTEGER;
    const rows = this.q.projectsPage.all(before, page.limit + 1) as ProjectRow[];
    const more = rows.length > page.limit;
    const projects = rows.slice(0, page.limit).map(toProject);
    return { projects, nextPageToken: more ? String(rows[page.limit - 1]!.id) : "" };
  }

  /** See `ManagerStore.listUnits`. */
  async listUnits(
    projectId: string,
    page: { state?: UnitState; limit: number; pageToken?: string; maxBytes?: number },
  ): Promise<{ units: UnitRecord[]; nextPageToken: string }> {
    const project = projectRowOf(this.q, projectId);
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

  /** See `ManagerStore.getUnit`. */
  async getUnit(id: string): Promise<UnitRecord & { copies: CopyRecord[] }> {
    const seq = parseId("u", id);
    const row = seq === undefined ? undefined : (this.q.unit.get(seq) as UnitRow | undefined);
    // A canary (state 0) is not shown: see schema.ts.
    if (row === undefined || row.state === CANARY_STATE) throw new UnitNotFoundError(id);
    const copies = (this.q.copiesOfUnit.all(row.id) as CopyRow[]).map(toCopy);
    return { ...toUnit(row), copies };
  }

  /** See `ManagerStore.listResults`. */
  async listResults(
    projectId: string,
    cursor: string,
    limit: number,
    maxBytes = Number.POSITIVE_INFINITY,
  ): Promise<{ results: ResultRecord[]; nextCursor: string; more: boolean }> {
    const project = projectRowOf(this.q, projectId);
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

  /** See `ManagerStore.latestResultsCursor`. */
  async latestResultsCursor(projectId: string, count: number): Promise<string> {
    const project = projectRowOf(this.q, projectId);
    const row = this.q.resultSeqFromEnd.get(project.id, count) as { seq: number } | undefined;
    return row === undefined ? "" : String(row.seq);
  }

  /** See `ManagerStore.computingCounts`. */
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

  /** See `ManagerStore.listClients`. */
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
}

function parseToken(token: string): number {
  const value = Number(token);
  if (!Number.isSafeInteger(value) || value < 0) throw new InvalidArgumentError("page_token", "not a page token from this manager");
  return value;
}
