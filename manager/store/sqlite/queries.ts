import type Database from "better-sqlite3";
import { COUNTER_COLUMNS } from "./count-deltas.js";
import { OUTCOME_CODE, UNIT_STATE_CODE } from "./codes.js";
import { resultFieldsSql } from "./result-fields-sql.js";
import { UNIT_COLUMNS } from "./rows.js";

const S = UNIT_STATE_CODE;
const O = OUTCOME_CODE;

/**
 * The manager store's SQL statements, prepared once per database (the distributor registry has its
 * own in sqlite-distributors.ts; the batched ones are built in sqlite-store.ts and finish-batch.ts).
 */
export function prepareQueries(db: Database.Database) {
  const prepare = (sql: string) => db.prepare(sql);
  return {
      meta: prepare("SELECT value FROM meta WHERE key = ?").pluck(),
      putMeta: prepare("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)"),
      putProgram: prepare("INSERT OR IGNORE INTO programs (hash, source, signature) VALUES (?, ?, ?)"),
      program: prepare("SELECT hash, source, signature FROM programs WHERE hash = ?"),
      insertProject: prepare(
        `INSERT INTO projects (name, state, program_hash, has_validator, input_encoding, output_encoding, replication,
         quorum, max_attempts, lease_timeout_ms, deadline_ms, priority, adaptive_replication, canary_rate, created_at, updated_at)
         VALUES (@name, @state, @programHash, @hasValidator, @inputEncoding, @outputEncoding, @replication, @quorum,
         @maxAttempts, @leaseTimeoutMs, @deadlineMs, @priority, @adaptiveReplication, @canaryRate, @now, @now)`,
      ),
      project: prepare("SELECT * FROM projects WHERE id = ?"),
      projectByName: prepare("SELECT id FROM projects WHERE name = ?").pluck(),
      projectsPage: prepare("SELECT * FROM projects WHERE id < ? ORDER BY id DESC LIMIT ?"),
      activeProjects: prepare(
        "SELECT id, priority, deadline_ms, created_at, program_hash, input_encoding, output_encoding, lease_timeout_ms, canary_rate FROM projects WHERE state = 1",
      ),
      updateSettings: prepare(
        `UPDATE projects SET name = @name, input_encoding = @inputEncoding, output_encoding = @outputEncoding,
         replication = @replication, quorum = @quorum, max_attempts = @maxAttempts, lease_timeout_ms = @leaseTimeoutMs,
         deadline_ms = @deadlineMs, priority = @priority, adaptive_replication = @adaptiveReplication, canary_rate = @canaryRate, updated_at = @now WHERE id = @id`,
      ),
      setProjectState: prepare("UPDATE projects SET state = ?, updated_at = ? WHERE id = ?"),
      markDone: prepare(
        "UPDATE projects SET state = 3, updated_at = ? WHERE id = ? AND state = 1 AND n_queued = 0 AND n_running = 0 AND n_total > 0",
      ),
      reopen: prepare("UPDATE projects SET state = 1, updated_at = ? WHERE id = ? AND state = 3"),
      applyCounts: prepare(
        `UPDATE projects SET ${COUNTER_COLUMNS.map((c) => `${c} = ${c} + ?`).join(", ")} WHERE id = ?`,
      ),
      // Active or paused projects past their deadline (see isPastDeadline).
      pastDeadline: prepare("SELECT id FROM projects WHERE state IN (1, 2) AND deadline_ms IS NOT NULL AND deadline_ms <= ?").pluck(),
      deleteProject: prepare("DELETE FROM projects WHERE id = ?"),
      deleteCopies: prepare("DELETE FROM copies WHERE unit_id IN (SELECT id FROM units WHERE project_id = ?)"),
      deleteResults: prepare("DELETE FROM results WHERE project_id = ?"),
      deleteUnits: prepare("DELETE FROM units WHERE project_id = ?"),

      unit: prepare(`SELECT ${UNIT_COLUMNS} FROM units WHERE id = ?`),
      unitsPage: prepare(`SELECT ${UNIT_COLUMNS} FROM units WHERE project_id = ? AND id > ? AND state > 0 ORDER BY id LIMIT ?`),
      // Up to ? canaries of a project, drawn at random (units_canaries: a project's few canaries).
      canaries: prepare("SELECT id, round, input, priority FROM units WHERE project_id = ? AND canary_hash IS NOT NULL ORDER BY random() LIMIT ?"),
      unitsPageByState: prepare(`SELECT ${UNIT_COLUMNS} FROM units WHERE project_id = ? AND state = ? AND id > ? ORDER BY id LIMIT ?`),
      unitIdsByState: prepare("SELECT id FROM units WHERE project_id = ? AND state = ?").pluck(),
      openUnitIds: prepare("SELECT id FROM units WHERE project_id = ? AND state IN (1, 2)").pluck(),
      ready: prepare("SELECT id, priority, state, round, input FROM units WHERE project_id = ? AND need > 0 ORDER BY priority DESC, id LIMIT ?"),
      leaseUnits: prepare(
        `UPDATE units SET need = need - 1, pending = pending + 1, attempts = attempts + 1, copies_sent = copies_sent + 1, state = ${S.running}
         WHERE id IN (SELECT value FROM json_each(?))`,
      ),
      updateUnit: prepare(
        "UPDATE units SET state = ?, need = ?, pending = ?, attempts = ?, repeat_failures = ?, error = coalesce(?, error) WHERE id = ?",
      ),
      finishUnit: prepare(
        `UPDATE units SET state = ?, need = 0, pending = ?, attempts = ?, repeat_failures = ?, finished_at = ?, output = ?, output_hash = ?,
         result_seq = ?, error = coalesce(?, error) WHERE id = ?`,
      ),
      // After finishUnit of a done unit; @middle = resultFieldsMiddle of what it wrote.
      setResultFields: prepare(`UPDATE units SET result_fields = ${resultFieldsSql("input", "@middle", "copies_sent")} WHERE id = @unit`),
      setPending: prepare("UPDATE units SET pending = max(pending - 1, 0) WHERE id = ?"),
      closeUnit: prepare("UPDATE units SET state = ?, need = 0, finished_at = ? WHERE id = ?"),
      requeueUnit: prepare(
        `UPDATE units SET state = 1, need = ?, pending = 0, attempts = 0, repeat_failures = 0, self_agreement = 0, unreplicated = 0, accepted_from = NULL,
         validating = 0, round = round + 1, finished_at = NULL,
         output = NULL, output_hash = NULL, result_seq = NULL, result_fields = NULL, error = NULL WHERE id = ?`,
      ),

      copyWithUnit: prepare(
        `SELECT c.id, c.unit_id, c.round, c.distributor_id, c.outcome, c.received_at, u.project_id, u.state AS unit_state,
         u.round AS unit_round, u.pending, u.attempts, u.output_hash AS unit_hash, u.repeat_failures, u.canary_hash
         FROM copies c JOIN units u ON u.id = c.unit_id WHERE c.id = ?`,
      ),
      // Rows as arrays (see copyWithUnitOf): better-sqlite3 builds named-column objects at twice the cost.
      copiesWithUnits: prepare(
        `SELECT c.id, c.unit_id, c.round, c.distributor_id, c.outcome, c.received_at, u.project_id, u.state AS unit_state,
         u.round AS unit_round, u.pending, u.attempts, u.output_hash AS unit_hash, u.repeat_failures, u.canary_hash
         FROM copies c JOIN units u ON u.id = c.unit_id WHERE c.id IN (SELECT value FROM json_each(?))`,
      ).raw(true),
      // [unit_id, client_id] of the units' failed copies (error or invalid output) in their current round.
      failedClients: prepare(
        `SELECT c.unit_id, c.client_id FROM copies c JOIN units u ON u.id = c.unit_id AND u.round = c.round
         WHERE c.unit_id IN (SELECT value FROM json_each(?)) AND c.outcome IN (${O.error}, ${O.invalid}) AND c.client_id IS NOT NULL`,
      ).raw(true),
      recordCopy: prepare(
        `UPDATE copies SET outcome = ?, received_at = ?, client_id = ?, output_hash = ?, error = ?, duration_ms = ?, output = ?,
         client_key = ?, client_host = ? WHERE id = ?`,
      ),
      setCopyOutcome: prepare("UPDATE copies SET outcome = ? WHERE id = ?"),
      renewCopy: prepare("UPDATE copies SET deadline = ? WHERE id = ?"),
      // [output_hash, distributor_id, client_key, client_host, vote_hash, id] of a round's OK copies, oldest first.
      okVotes: prepare(
        "SELECT output_hash, distributor_id, client_key, client_host, vote_hash, id FROM copies WHERE unit_id = ? AND round = ? AND outcome = 2 ORDER BY id",
      ).raw(true),
      // [output_hash, vote_hash, output] of a round's OK copies that kept their output, oldest first.
      okOutputs: prepare("SELECT output_hash, vote_hash, output FROM copies WHERE unit_id = ? AND round = ? AND outcome = 2 ORDER BY id").raw(true),
      setVoteHash: prepare("UPDATE copies SET vote_hash = ? WHERE unit_id = ? AND round = ? AND outcome = 2 AND output_hash = ?"),
      invalidateCopies: prepare("UPDATE copies SET outcome = 5 WHERE id IN (SELECT value FROM json_each(?))"),
      setValidating: prepare("UPDATE units SET validating = ? WHERE id = ?"),
      validatingUnits: prepare(
        `SELECT u.id, u.round, u.project_id, p.program_hash, p.output_encoding FROM units u JOIN projects p ON p.id = u.project_id
         WHERE u.validating = 1 ORDER BY u.id LIMIT ?`,
      ).raw(true),
      setSelfAgreement: prepare("UPDATE units SET self_agreement = ? WHERE id = ?"),
      setUnreplicated: prepare("UPDATE units SET unreplicated = 1, accepted_from = ? WHERE id = ?"),
      // Units a client got accepted alone, still done on its word.
      acceptedFrom: prepare("SELECT id FROM units WHERE accepted_from = ?").pluck(),
      // A unit done on one client's word back to its round, need copies more (see recheckAcceptedFrom).
      reopenUnreplicated: prepare(
        `UPDATE units SET state = 1, need = ?, unreplicated = 0, accepted_from = NULL, finished_at = NULL, output = NULL, output_hash = NULL,
         result_seq = NULL, result_fields = NULL WHERE id = ?`,
      ),
      distributorVerdicts: prepare("SELECT coalesce(sum(validated), 0), coalesce(sum(wrong), 0) FROM clients WHERE distributor_id = ?").raw(true),
      trustOf: prepare("SELECT trust FROM clients WHERE distributor_id = ? AND client_key = ?").pluck(),
      putTrust: prepare(
        `INSERT INTO clients (distributor_id, client_key, trust, validated, wrong, last_seen) VALUES (@d, @key, @trust, @validated, @wrong, @now)
         ON CONFLICT (distributor_id, client_key) DO UPDATE SET trust = @trust, validated = validated + @validated, wrong = wrong + @wrong, last_seen = @now`,
      ),
      clientsByTrust: prepare("SELECT distributor_id, client_key, trust, validated, wrong, last_seen FROM clients ORDER BY trust DESC, validated DESC LIMIT ?"),
      winnerOutput: prepare("SELECT output FROM copies WHERE unit_id = ? AND round = ? AND outcome = 2 AND output_hash = ? AND output IS NOT NULL LIMIT 1").pluck(),
      invalidateLosers: prepare("UPDATE copies SET outcome = 5 WHERE unit_id = ? AND round = ? AND outcome = 2 AND output_hash <> ?"),
      copiesOfUnit: prepare("SELECT * FROM copies WHERE unit_id = ? ORDER BY id"),
      expiredCopies: prepare("SELECT id FROM copies WHERE outcome = 1 AND deadline <= ? ORDER BY deadline LIMIT ?").pluck(),

      insertResult: prepare("INSERT INTO results (project_id, unit_id) VALUES (?, ?)"),
      results: prepare(
        `SELECT r.seq, r.unit_id, u.result_fields, u.self_agreement, u.unreplicated
         FROM results r JOIN units u ON u.id = r.unit_id AND u.result_seq = r.seq
         WHERE r.project_id = ? AND r.seq > ? ORDER BY r.seq LIMIT ?`,
      ),
      resultSeqFromEnd: prepare(
        `SELECT r.seq FROM results r JOIN units u ON u.id = r.unit_id AND u.result_seq = r.seq
         WHERE r.project_id = ? ORDER BY r.seq DESC LIMIT 1 OFFSET ?`,
      ),
      insertNotice: prepare("INSERT INTO unit_notices (unit_id, at) VALUES (?, ?)"),
  };
}
