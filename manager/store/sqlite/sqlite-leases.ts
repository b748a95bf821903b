import type Database from "better-sqlite3";
import { takeWithinBytes } from "../../../core/byte-budget.js";
import { ordinaryRoom } from "../../../core/canary-mix.js";
import { compareProjectsForLease } from "../../../core/lease-order.js";
import { isPastDeadline } from "../../../core/project-deadline.js";
import type { PayloadEncoding } from "../../../core/project-settings.js";
import { isFinalUnitState } from "../../../core/unit-transitions.js";
import type { BatchStatement } from "../../../sqlite/batch-statement.js";
import { formatId, parseId } from "../../ids.js";
import type { LeasedTask } from "../store.js";
import { OUTCOME_CODE as O, UNIT_STATE_CODE as S, unitStateOf } from "./codes.js";
import { CountDeltas } from "./count-deltas.js";
import type { CopyWithUnitRow, ProjectRow, ReadyUnitRow } from "./rows.js";
import type { SqliteCanaries } from "./sqlite-canaries.js";
import type { SqliteCopyEnds } from "./sqlite-copy-ends.js";
import type { SqliteDistributors } from "./sqlite-distributors.js";
import type { Queries, SqliteUnitWrites } from "./sqlite-unit-writes.js";

/** Leases in SQLite: copies leased in lease order (canaries mixed in), renewed, given back. Each call is one transaction. */
export class SqliteLeases {
  constructor(
    private readonly db: Database.Database,
    private readonly q: Queries,
    private readonly insertCopies: BatchStatement,
    private readonly canaries: SqliteCanaries,
    private readonly writes: SqliteUnitWrites,
    private readonly copyEnds: SqliteCopyEnds,
    private readonly distributors: SqliteDistributors,
  ) {}

  /** See `ManagerStore.leaseCopies`. */
  async leaseCopies(distributorId: string, max: number, nowMs: number, maxInputBytes = Number.POSITIVE_INFINITY): Promise<LeasedTask[]> {
    const distributor = parseId("d", distributorId) ?? 0;
    return this.db.transaction(() => {
      const projects = (
        this.q.activeProjects.all() as Array<{
          id: number;
          priority: number;
          deadline_ms: number | null;
          created_at: number;
          program_hash: string;
          input_encoding: PayloadEncoding;
          output_encoding: PayloadEncoding;
          lease_timeout_ms: number;
          canary_rate: number;
        }>
      )
        .filter((p) => !isPastDeadline(p.deadline_ms ?? undefined, nowMs))
        .sort((a, b) =>
          compareProjectsForLease(
            { priority: a.priority, deadlineMs: a.deadline_ms ?? undefined, createdAtMs: a.created_at },
            { priority: b.priority, deadlineMs: b.deadline_ms ?? undefined, createdAtMs: b.created_at },
          ),
        );
      const tasks: LeasedTask[] = [];
      const deltas = new CountDeltas();
      const budget = { bytes: maxInputBytes };
      for (const p of projects) {
        if (tasks.length >= max || budget.bytes <= 0) break;
        const rows = this.readyRows(p.id, ordinaryRoom(max - tasks.length, p.canary_rate), budget, tasks.length === 0);
        // Counted even when empty: applyDeltas then re-checks whether the project is done.
        deltas.copiesOut(p.id, rows.length);
        if (rows.length === 0) continue;
        const deadlineMs = nowMs + p.lease_timeout_ms;
        const firstCopy = this.leaseRows(rows, distributor, nowMs, deadlineMs);
        const projectId = formatId("p", p.id);
        let queued = 0;
        for (let i = 0; i < rows.length; i++) {
          const unit = rows[i]!;
          if (unit.state === S.queued) queued += 1;
          tasks.push({
            copyId: formatId("c", firstCopy + i),
            unitId: formatId("u", unit.id),
            projectId,
            programHash: p.program_hash,
            input: unit.input,
            inputEncoding: p.input_encoding,
            outputEncoding: p.output_encoding,
            deadlineMs,
            priority: unit.priority,
          });
        }
        deltas.move(p.id, "queued", "running", queued);
        this.canaries.mix(tasks, tasks.length - rows.length, max, p, distributor, nowMs, deadlineMs, budget);
      }
      this.writes.applyDeltas(deltas, nowMs);
      this.distributors.touch(distributor, nowMs);
      return tasks;
    })();
  }

  /** See `ManagerStore.renewCopies`. */
  async renewCopies(
    distributorId: string,
    copyIds: readonly string[],
    nowMs: number,
  ): Promise<{ renewed: Array<{ copyId: string; deadlineMs: number }>; lost: string[] }> {
    const distributor = parseId("d", distributorId);
    return this.db.transaction(() => {
      const renewed: Array<{ copyId: string; deadlineMs: number }> = [];
      const lost: string[] = [];
      const timeouts = new Map<number, number>();
      for (const copyId of copyIds) {
        const seq = parseId("c", copyId);
        const c = seq === undefined ? undefined : (this.q.copyWithUnit.get(seq) as CopyWithUnitRow | undefined);
        const open = c !== undefined && (c.canary_hash !== null || (!isFinalUnitState(unitStateOf(c.unit_state)) && c.round === c.unit_round));
        if (c === undefined || c.outcome !== O.pending || c.distributor_id !== distributor || !open) {
          lost.push(copyId);
          continue;
        }
        let timeout = timeouts.get(c.project_id);
        if (timeout === undefined) {
          timeout = (this.q.project.get(c.project_id) as ProjectRow).lease_timeout_ms;
          timeouts.set(c.project_id, timeout);
        }
        this.q.renewCopy.run(nowMs + timeout, c.id);
        renewed.push({ copyId, deadlineMs: nowMs + timeout });
      }
      return { renewed, lost };
    })();
  }

  /** See `ManagerStore.releaseCopies`. */
  async releaseCopies(distributorId: string, copyIds: readonly string[], nowMs: number): Promise<number> {
    const distributor = parseId("d", distributorId);
    const released = this.db.transaction(() => {
      const seqs: number[] = [];
      for (const copyId of copyIds) {
        const seq = parseId("c", copyId);
        const c = seq === undefined ? undefined : (this.q.copyWithUnit.get(seq) as CopyWithUnitRow | undefined);
        if (c !== undefined && c.outcome === O.pending && c.distributor_id === distributor) seqs.push(c.id);
      }
      return this.copyEnds.release(seqs, nowMs).released;
    })();
    return released;
  }

  /**
   * Up to `max` ready units of a project in lease order, read one by one until their inputs would
   * pass `budget.bytes` (which they use up); the first unit of a Lease (`first`) is taken whatever
   * its size. Rows past the budget are never read, so large inputs cost no memory here.
   */
  private readyRows(projectId: number, max: number, budget: { bytes: number }, first: boolean): ReadyUnitRow[] {
    const found = this.q.ready.iterate(projectId, max) as IterableIterator<ReadyUnitRow>;
    const { taken, bytes, cut } = takeWithinBytes(found, (row) => row.input.byteLength, budget.bytes, first);
    // A unit that did not fit ends the Lease: a smaller one behind it must not jump the order.
    budget.bytes = cut ? 0 : budget.bytes - bytes;
    return taken;
  }

  /**
   * Inserts one pending copy per ready unit and moves the units on (need − 1, one more attempt and
   * copy sent, running), each as one set-based statement. Returns the first copy's row id: the
   * copy of `rows[i]` is `first + i` (see {@link BatchStatement.insert}).
   */
  private leaseRows(rows: readonly ReadyUnitRow[], distributor: number, nowMs: number, deadlineMs: number): number {
    const values = new Array<unknown>(rows.length * 6);
    const unitSeqs = new Array<number>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const unit = rows[i]!;
      values[i * 6] = unit.id;
      values[i * 6 + 1] = unit.round;
      values[i * 6 + 2] = distributor;
      values[i * 6 + 3] = O.pending;
      values[i * 6 + 4] = nowMs;
      values[i * 6 + 5] = deadlineMs;
      unitSeqs[i] = unit.id;
    }
    const first = this.insertCopies.insert(values);
    this.q.leaseUnits.run(JSON.stringify(unitSeqs));
    return first;
  }
}
