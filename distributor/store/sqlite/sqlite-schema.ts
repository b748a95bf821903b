/**
 * Schema of the distributor's SQLite store. Times are ms since epoch. `held.task` is the encoded
 * `disio.v1.Task` as leased. Which client holds a copy right now lives in memory only (after a
 * restart every copy is ready again); `assignments` durably records every copy given to a client.
 */
export const SQLITE_SCHEMA = `
CREATE TABLE IF NOT EXISTS held (
  copy_id TEXT PRIMARY KEY,
  unit_id TEXT NOT NULL,
  project_id TEXT NOT NULL,
  priority INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  task BLOB NOT NULL,
  lease_deadline INTEGER NOT NULL,
  renew_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS assignments (
  copy_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  unit_id TEXT NOT NULL,
  given_at INTEGER NOT NULL,
  PRIMARY KEY (copy_id, client_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS assignments_given_at ON assignments (given_at);

CREATE TABLE IF NOT EXISTS results (
  seq INTEGER PRIMARY KEY,
  copy_id TEXT NOT NULL UNIQUE,
  unit_id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  result BLOB NOT NULL
);

CREATE TABLE IF NOT EXISTS programs (
  hash TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  signature BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;
`;

/** Version of {@link SQLITE_SCHEMA}, kept in `PRAGMA user_version`. */
export const SQLITE_SCHEMA_VERSION = 1;
