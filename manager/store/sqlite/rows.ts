import type { PayloadEncoding, ProjectSettings } from "../../../core/project-settings.js";
import { formatId } from "../../ids.js";
import type { CopyRecord, ProjectRecord, UnitRecord } from "../store.js";
import { outcomeOf, projectStateOf, unitStateOf } from "./codes.js";

/**
 * Rows of the manager's SQLite tables as better-sqlite3 returns them, and their mapping to the
 * store's records (ids formatted, codes named, NULLs as undefined).
 */

/** A `projects` row. */
export interface ProjectRow {
  id: number;
  name: string;
  state: number;
  program_hash: string;
  has_validator: number;
  adaptive_replication: number;
  canary_rate: number;
  input_encoding: string;
  output_encoding: string;
  replication: number;
  quorum: number;
  max_attempts: number;
  lease_timeout_ms: number;
  deadline_ms: number | null;
  priority: number;
  created_at: number;
  updated_at: number;
  n_queued: number;
  n_running: number;
  n_done: number;
  n_failed: number;
  n_expired: number;
  n_cancelled: number;
  n_total: number;
  copies_out: number;
}

/** A `units` row (the columns of {@link UNIT_COLUMNS}). */
export interface UnitRow {
  id: number;
  project_id: number;
  state: number;
  priority: number;
  need: number;
  pending: number;
  attempts: number;
  repeat_failures: number;
  copies_sent: number;
  round: number;
  created_at: number;
  finished_at: number | null;
  output_hash: string | null;
  error: string | null;
  input: Buffer;
  output: Buffer | null;
  self_agreement: number;
  validating: number;
  unreplicated: number;
}

/** A `copies` row. */
export interface CopyRow {
  id: number;
  unit_id: number;
  round: number;
  distributor_id: number;
  outcome: number;
  sent_at: number;
  deadline: number;
  received_at: number | null;
  client_id: string | null;
  output_hash: string | null;
  error: string | null;
  client_key: string | null;
  client_host: string | null;
}

/** A unit the lease query picked. */
export interface ReadyUnitRow {
  id: number;
  priority: number;
  state: number;
  round: number;
  input: Buffer;
}

/** A copy joined with its unit: what recording a result, a renewal, a release or an expiry reads. */
export interface CopyWithUnitRow {
  id: number;
  unit_id: number;
  round: number;
  distributor_id: number;
  outcome: number;
  received_at: number | null;
  project_id: number;
  unit_state: number;
  unit_round: number;
  pending: number;
  attempts: number;
  unit_hash: string | null;
  repeat_failures: number;
  /** The canary's expected output hash; null for an ordinary unit. */
  canary_hash: string | null;
}

/** The `units` columns every unit query selects, in {@link UnitRow} order. */
export const UNIT_COLUMNS =
  "id, project_id, state, priority, need, pending, attempts, repeat_failures, copies_sent, round, created_at, finished_at, output_hash, error, input, output, self_agreement, validating, unreplicated";

/** A project's settings as named parameters of the insert and update statements. */
export function settingsParams(s: ProjectSettings) {
  return {
    name: s.name,
    inputEncoding: s.inputEncoding,
    outputEncoding: s.outputEncoding,
    replication: s.replication,
    quorum: s.quorum,
    maxAttempts: s.maxAttempts,
    leaseTimeoutMs: s.leaseTimeoutMs,
    deadlineMs: s.deadlineMs ?? null,
    priority: s.priority,
    adaptiveReplication: s.adaptiveReplication ? 1 : 0,
    canaryRate: s.canaryRate,
  };
}

/** A raw `copiesWithUnits` row (columns in the order of `copyWithUnit`) as a {@link CopyWithUnitRow}. */
export function copyWithUnitOf(row: unknown[]): CopyWithUnitRow {
  return {
    id: row[0] as number,
    unit_id: row[1] as number,
    round: row[2] as number,
    distributor_id: row[3] as number,
    outcome: row[4] as number,
    received_at: row[5] as number | null,
    project_id: row[6] as number,
    unit_state: row[7] as number,
    unit_round: row[8] as number,
    pending: row[9] as number,
    attempts: row[10] as number,
    unit_hash: row[11] as string | null,
    repeat_failures: row[12] as number,
    canary_hash: row[13] as string | null,
  };
}

/** A project row as a record. */
export function toProject(row: ProjectRow): ProjectRecord {
  return {
    id: formatId("p", row.id),
    name: row.name,
    state: projectStateOf(row.state),
    programHash: row.program_hash,
    hasValidator: row.has_validator === 1,
    inputEncoding: row.input_encoding as PayloadEncoding,
    outputEncoding: row.output_encoding as PayloadEncoding,
    replication: row.replication,
    quorum: row.quorum,
    maxAttempts: row.max_attempts,
    leaseTimeoutMs: row.lease_timeout_ms,
    deadlineMs: row.deadline_ms ?? undefined,
    priority: row.priority,
    adaptiveReplication: row.adaptive_replication === 1,
    canaryRate: row.canary_rate,
    createdAtMs: row.created_at,
    updatedAtMs: row.updated_at,
    counts: {
      queued: row.n_queued,
      running: row.n_running,
      done: row.n_done,
      failed: row.n_failed,
      expired: row.n_expired,
      cancelled: row.n_cancelled,
      total: row.n_total,
    },
    copiesOut: row.copies_out,
  };
}

/** A unit row as a record. */
export function toUnit(row: UnitRow): UnitRecord {
  return {
    id: formatId("u", row.id),
    projectId: formatId("p", row.project_id),
    state: unitStateOf(row.state),
    input: row.input,
    priority: row.priority,
    copiesSent: row.copies_sent,
    attempts: row.attempts,
    output: row.output ?? undefined,
    outputHash: row.output_hash ?? undefined,
    createdAtMs: row.created_at,
    finishedAtMs: row.finished_at ?? undefined,
    error: row.error ?? undefined,
    selfAgreement: row.self_agreement === 1,
    unreplicated: row.unreplicated === 1,
  };
}

/** A copy row as a record. */
export function toCopy(row: CopyRow): CopyRecord {
  return {
    id: formatId("c", row.id),
    unitId: formatId("u", row.unit_id),
    distributorId: row.distributor_id === 0 ? "" : formatId("d", row.distributor_id),
    clientId: row.client_id ?? undefined,
    sentAtMs: row.sent_at,
    deadlineMs: row.deadline,
    receivedAtMs: row.received_at ?? undefined,
    outcome: outcomeOf(row.outcome),
    outputHash: row.output_hash ?? undefined,
    error: row.error ?? undefined,
    clientKey: row.client_key || undefined,
    clientHost: row.client_host || undefined,
  };
}
