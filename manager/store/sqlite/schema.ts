import type Database from "better-sqlite3";
import { resultFieldsMiddle, resultFieldsSql } from "./result-fields-sql.js";

/**
 * The SQLite schema of the manager store. Shaped for the hot paths:
 * * `units_ready` is a partial index over units that still need copies, in the lease order within a
 *   project (priority desc, then age), so leasing N copies walks N index entries per project.
 * * `copies_pending_deadline` / `copies_pending_distributor` are partial indexes over pending copies
 *   only, for the expiry sweep and revocation.
 * * `results` is the append-only result log; its AUTOINCREMENT `seq` is the ListResults/WatchResults cursor.
 * * Unit counts per state and copies out are counters on `projects`, kept in the same transactions
 *   that change units, so stats never scan units.
 * * `units.attempts` and `units.repeat_failures` are the current round's counters of the same names
 *   in core/quorum.ts (`QuorumTally`); a new round resets them.
 * * AUTOINCREMENT on every id table: ids are never reused after a delete, so a late report of a
 *   deleted project's copy cannot land on a new copy.
 * `add_requests` remembers each AddUnits request id with the unit ids it stored (consecutive, so a
 *   first id and a count) and a digest of its units, written in the transaction that adds the
 *   units: a retry finds it and adds nothing. One row per batch of units; deleted with the project.
 * `copies.client_key` / `client_host` say who computed a copy (see core/voter-tags.ts): quorum counts
 *   distinct volunteers, and `units.self_agreement` marks a unit one volunteer agreed on with itself.
 * `copies.vote_hash` is the class a copy's output was put in by its project's validator (core/validator-classes.ts),
 *   and `units.validating` marks a unit whose round waits for that validator (units_validating lists them).
 * `units.unreplicated` marks a unit done by one trusted client's result alone (adaptive replication), and
 *   `accepted_from` names that client (`<distributor row id>:<client key>`) so a wrong answer from it
 *   finds them all (units_accepted_from) to send them back to full quorum.
 * `clients` is the trust of each client identity per distributor vouching for it (core/client-trust.ts);
 *   keyless clients of a distributor share the key `anon`.
 * `units.canary_hash` marks a canary (a unit with a known answer, the hash of its expected output):
 *   it is stored in state 0 (no proto state: no by-state query, count or page sees it) with need 0,
 *   so it is leased only as mixed in by leaseCopies, and never finishes (units_canaries lists them).
 * `extra_copies` maps the id a distributor gave an extra copy (made while it was cut off from its managers,
 *   see sqlite-extra-copies.ts) to the copy row adopted for it, so a Report sent again adopts it once.
 * `units.result_fields` is a done unit's Result fields 3–7 in protobuf binary form (see result-fields-sql.ts),
 *   written with its output, so a ListResults page copies one blob per result.
 * State and outcome columns hold the proto enum numbers.
 */
export const SCHEMA_VERSION = 1;

/** DDL, idempotent. */
export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS programs (
  hash TEXT PRIMARY KEY, source TEXT NOT NULL, signature BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS projects (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  state INTEGER NOT NULL,
  program_hash TEXT NOT NULL,
  has_validator INTEGER NOT NULL,
  input_encoding TEXT NOT NULL,
  output_encoding TEXT NOT NULL,
  replication INTEGER NOT NULL,
  quorum INTEGER NOT NULL,
  max_attempts INTEGER NOT NULL,
  lease_timeout_ms INTEGER NOT NULL,
  deadline_ms INTEGER,
  priority INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  n_queued INTEGER NOT NULL DEFAULT 0,
  n_running INTEGER NOT NULL DEFAULT 0,
  n_done INTEGER NOT NULL DEFAULT 0,
  n_failed INTEGER NOT NULL DEFAULT 0,
  n_expired INTEGER NOT NULL DEFAULT 0,
  n_cancelled INTEGER NOT NULL DEFAULT 0,
  n_total INTEGER NOT NULL DEFAULT 0,
  copies_out INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS units (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  project_id INTEGER NOT NULL,
  state INTEGER NOT NULL,
  priority INTEGER NOT NULL,
  need INTEGER NOT NULL,
  pending INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  repeat_failures INTEGER NOT NULL DEFAULT 0,
  copies_sent INTEGER NOT NULL DEFAULT 0,
  round INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  finished_at INTEGER,
  result_seq INTEGER,
  output_hash TEXT,
  error TEXT,
  input BLOB NOT NULL,
  output BLOB
);
CREATE INDEX IF NOT EXISTS units_ready ON units(project_id, priority DESC, id) WHERE need > 0;
CREATE INDEX IF NOT EXISTS units_by_state ON units(project_id, state);
CREATE TABLE IF NOT EXISTS copies (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  unit_id INTEGER NOT NULL,
  round INTEGER NOT NULL,
  distributor_id INTEGER NOT NULL,
  outcome INTEGER NOT NULL,
  sent_at INTEGER NOT NULL,
  deadline INTEGER NOT NULL,
  received_at INTEGER,
  client_id TEXT,
  output_hash TEXT,
  error TEXT,
  duration_ms INTEGER,
  output BLOB
);
CREATE INDEX IF NOT EXISTS copies_by_unit ON copies(unit_id);
CREATE INDEX IF NOT EXISTS copies_pending_deadline ON copies(deadline) WHERE outcome = 1;
CREATE INDEX IF NOT EXISTS copies_pending_distributor ON copies(distributor_id) WHERE outcome = 1;
CREATE TABLE IF NOT EXISTS extra_copies (
  distributor_id INTEGER NOT NULL,
  extra_id TEXT NOT NULL,
  copy_id INTEGER NOT NULL,
  PRIMARY KEY (distributor_id, extra_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS results (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  project_id INTEGER NOT NULL,
  unit_id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS results_by_project ON results(project_id, seq);
CREATE TABLE IF NOT EXISTS distributors (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  region TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  registered_at INTEGER,
  last_seen INTEGER,
  revoked INTEGER NOT NULL DEFAULT 0,
  draining INTEGER NOT NULL DEFAULT 0,
  public_url TEXT NOT NULL DEFAULT '',
  capacity INTEGER NOT NULL DEFAULT 0,
  version TEXT NOT NULL DEFAULT '',
  held_copies INTEGER NOT NULL DEFAULT 0,
  clients INTEGER NOT NULL DEFAULT 0,
  buffered_results INTEGER NOT NULL DEFAULT 0,
  free_slots INTEGER NOT NULL DEFAULT 0,
  notice_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS client_sessions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  distributor_id INTEGER NOT NULL,
  client_id TEXT NOT NULL,
  platform TEXT NOT NULL,
  join_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  results INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS add_requests (
  project_id INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  first_unit INTEGER NOT NULL,
  units INTEGER NOT NULL,
  digest TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (project_id, request_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS clients (
  distributor_id INTEGER NOT NULL,
  client_key TEXT NOT NULL,
  trust INTEGER NOT NULL DEFAULT 0,
  validated INTEGER NOT NULL DEFAULT 0,
  wrong INTEGER NOT NULL DEFAULT 0,
  last_seen INTEGER NOT NULL,
  PRIMARY KEY (distributor_id, client_key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS clients_by_trust ON clients(trust DESC, validated DESC);
CREATE TABLE IF NOT EXISTS unit_notices (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  unit_id INTEGER NOT NULL,
  at INTEGER NOT NULL
);
`;

/**
 * Columns added after their table first shipped, as `[table, column, definition]`: CREATE TABLE IF
 * NOT EXISTS leaves an existing table as it was, so {@link applySchema} adds the ones it lacks.
 */
const ADDED_COLUMNS = [
  ["units", "repeat_failures", "INTEGER NOT NULL DEFAULT 0"],
  ["units", "self_agreement", "INTEGER NOT NULL DEFAULT 0"],
  ["copies", "client_key", "TEXT"],
  ["copies", "client_host", "TEXT"],
  ["copies", "vote_hash", "TEXT"],
  ["units", "validating", "INTEGER NOT NULL DEFAULT 0"],
  ["projects", "adaptive_replication", "INTEGER NOT NULL DEFAULT 0"],
  ["units", "unreplicated", "INTEGER NOT NULL DEFAULT 0"],
  ["units", "accepted_from", "TEXT"],
  ["projects", "canary_rate", "REAL NOT NULL DEFAULT 0"],
  ["units", "canary_hash", "TEXT"],
  ["units", "result_fields", "BLOB"],
] as const;

/**
 * What fills an added column for the rows that existed before it, by `table.column`: run once, when
 * the column is added.
 */
const BACKFILLS: Record<string, (db: Database.Database) => void> = {
  "units.result_fields": (db) => {
    db.function("disio_result_fields_middle", { deterministic: true }, (output, hash, ms) =>
      hash === null ? null : resultFieldsMiddle((output as Buffer | null) ?? new Uint8Array(), String(hash), Number(ms)),
    );
    db.exec(
      `UPDATE units SET result_fields = ${resultFieldsSql("input", "disio_result_fields_middle(output, output_hash, finished_at)", "copies_sent")}
       WHERE result_seq IS NOT NULL`,
    );
  },
};

/** Indexes over added columns, made once the columns exist. */
const ADDED_INDEXES = `
CREATE INDEX IF NOT EXISTS units_validating ON units(id) WHERE validating = 1;
CREATE INDEX IF NOT EXISTS units_accepted_from ON units(accepted_from) WHERE accepted_from IS NOT NULL;
CREATE INDEX IF NOT EXISTS units_canaries ON units(project_id) WHERE canary_hash IS NOT NULL;
`;

/** Creates the schema in `db`, or brings a database of an earlier version up to it. Idempotent. */
export function applySchema(db: Database.Database): void {
  db.exec(SCHEMA_SQL);
  for (const [table, column, definition] of ADDED_COLUMNS) {
    const columns = db.pragma(`table_info(${table})`) as Array<{ name: string }>;
    if (columns.some((c) => c.name === column)) continue;
    db.transaction(() => {
      db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
      BACKFILLS[`${table}.${column}`]?.(db);
    })();
  }
  db.exec(ADDED_INDEXES);
}
