import { canaryMix } from "../../../core/canary-mix.js";
import type { PayloadEncoding } from "../../../core/project-settings.js";
import { planCanaryResult } from "../../../core/result-plan.js";
import type { BatchStatement } from "../../../sqlite/batch-statement.js";
import { formatId } from "../../ids.js";
import type { LeasedTask, ReportedResult } from "../store.js";
import { OUTCOME_CODE as O } from "./codes.js";
import type { CountDeltas } from "./count-deltas.js";
import type { Reported } from "./reported-outcome.js";
import type { CopyWithUnitRow } from "./rows.js";
import type { Queries, SqliteUnitWrites } from "./sqlite-unit-writes.js";
import { voterColumns } from "./voter-columns.js";

/** A project as a lease reads it, for mixing its canaries in. */
export interface LeasedProject {
  id: number;
  canary_rate: number;
  program_hash: string;
  input_encoding: PayloadEncoding;
  output_encoding: PayloadEncoding;
}

/** Canaries (units with a known answer, see docs/architecture.md, Trust) in SQLite: mixing them into leases, judging their results. */
export class SqliteCanaries {
  constructor(
    private readonly q: Queries,
    private readonly insertCopies: BatchStatement,
    private readonly writes: SqliteUnitWrites,
    private readonly random: () => number,
  ) {}

  /**
   * Mixes canary copies of project `p` into a lease that just took ordinary copies of it (the
   * tasks from index `from` on): as many as core/canary-mix.ts draws, within the lease's `max`, of
   * distinct canaries picked at random, each put at a random place among the project's tasks so
   * that neither its shape nor its position tells it apart. Canary copies count in no counter:
   * their unit never moves.
   */
  mix(tasks: LeasedTask[], from: number, max: number, p: LeasedProject, distributor: number, nowMs: number, deadlineMs: number, budget: { bytes: number }): void {
    const count = Math.min(canaryMix(tasks.length - from, p.canary_rate, this.random), max - tasks.length);
    if (count === 0) return;
    type CanaryRow = { id: number; round: number; input: Uint8Array; priority: number };
    const picked = (this.q.canaries.all(p.id, count) as CanaryRow[]).filter((row) => {
      if (row.input.byteLength > budget.bytes) return false;
      budget.bytes -= row.input.byteLength;
      return true;
    });
    if (picked.length === 0) return;
    const first = this.insertCopies.insert(picked.flatMap((row) => [row.id, row.round, distributor, O.pending, nowMs, deadlineMs]));
    picked.forEach((row, i) => {
      const at = from + Math.floor(this.random() * (tasks.length - from + 1));
      tasks.splice(at, 0, {
        copyId: formatId("c", first + i),
        unitId: formatId("u", row.id),
        projectId: formatId("p", p.id),
        programHash: p.program_hash,
        input: row.input,
        inputEncoding: p.input_encoding,
        outputEncoding: p.output_encoding,
        deadlineMs,
        priority: row.priority,
      });
    });
  }

  /**
   * Records a canary copy's result and applies the verdict core/result-plan.ts `planCanaryResult`
   * gives its client against the known answer `expectedHash`. The canary itself stays as it was.
   */
  record(c: CopyWithUnitRow, expectedHash: string, result: ReportedResult, reported: Reported, hasValidator: boolean, nowMs: number, deltas: CountDeltas): void {
    const { clientKey, clientHost } = voterColumns(result);
    this.q.recordCopy.run(O[reported.kind], nowMs, result.clientId ?? null, reported.hash ?? null, reported.error ?? null, result.durationMs ?? null, null, clientKey, clientHost, c.id);
    const verdict = planCanaryResult(reported, expectedHash, hasValidator, c.distributor_id, clientKey);
    if (verdict !== undefined) this.writes.applyVerdicts([verdict], nowMs, deltas);
  }
}
