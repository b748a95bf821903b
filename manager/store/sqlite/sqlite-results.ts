import { distributorWeight } from "../../../core/distributor-trust.js";
import { FailedClients, finishesAlone, planReportedResult, type ReportedCopy } from "../../../core/result-plan.js";
import { voterTags } from "../../../core/voter-tags.js";
import { formatId, parseId } from "../../ids.js";
import type { RecordResultsOutcome, ReportedResult } from "../store.js";
import { OUTCOME_CODE as O, unitStateOf } from "./codes.js";
import { CountDeltas } from "./count-deltas.js";
import type { FastFinish, FinishBatch } from "./finish-batch.js";
import { reportedOutcome, type Reported } from "./reported-outcome.js";
import { copyWithUnitOf, type CopyWithUnitRow } from "./rows.js";
import type { SqliteCanaries } from "./sqlite-canaries.js";
import type { Queries, Rules, SqliteUnitWrites } from "./sqlite-unit-writes.js";
import { voterColumns } from "./voter-columns.js";

/**
 * `recordResults` in SQLite: reads a report batch's copies and units in one statement, asks
 * core/result-plan.ts what each result does, and writes the plans, the common quorum-1 finish
 * batched (see finish-batch.ts). Runs inside the caller's transaction.
 */
export class SqliteResults {
  constructor(
    private readonly q: Queries,
    private readonly finishes: FinishBatch,
    private readonly writes: SqliteUnitWrites,
    private readonly canaries: SqliteCanaries,
    private readonly random: () => number,
    private readonly batchFinishes: boolean,
  ) {}

  /** Records a batch of results `distributor` (row id) reported; see `ManagerStore.recordResults`. */
  record(distributor: number, results: readonly ReportedResult[], nowMs: number): RecordResultsOutcome {
    const outcome: RecordResultsOutcome = { accepted: 0, duplicates: 0, unknown: 0, refused: 0, unitsReopened: false, unitsFinished: 0, unitsToValidate: 0 };
    this.writes.resetEffects();
    const deltas = new CountDeltas();
    const rules = new Map<number, Rules>();
    const seqs = results.map((r) => parseId("c", r.copyId) ?? 0);
    const rows = this.copiesWithUnits(seqs);
    const { reportedAt, failedClients } = this.reportedWithFailedClients(distributor, results, seqs, rows, rules);
    const distributorWeights = new Map<number, number>();
    // Common-case finishes not written yet (see FinishBatch), and units written or queued earlier
    // in this batch: their prefetched rows are stale.
    const queued: FastFinish[] = [];
    const flush = () => {
      this.finishes.write(queued, nowMs);
      queued.length = 0;
    };
    const touched = new Set<number>();
    for (let i = 0; i < results.length; i++) {
      const result = results[i]!;
      let c = rows.get(seqs[i]!);
      if (c === undefined) {
        outcome.unknown += 1;
        continue;
      }
      if (c.distributor_id !== distributor) {
        outcome.refused += 1;
        continue;
      }
      if (touched.has(c.unit_id)) {
        flush();
        c = this.copyWithUnit(c.id)!;
      }
      if (c.received_at !== null) {
        outcome.duplicates += 1;
        continue;
      }
      touched.add(c.unit_id);
      outcome.accepted += 1;
      const r = this.writes.rules(rules, c.project_id);
      // Set for every copy that had no result when the batch began, as every accepted one.
      const reported = reportedAt[i]!;
      if (c.canary_hash !== null) {
        flush();
        this.canaries.record(c, c.canary_hash, result, reported, r.hasValidator, nowMs, deltas);
        continue;
      }
      if (this.finishAlone(c, result, reported, r, deltas, queued)) {
        outcome.unitsFinished += 1;
        continue;
      }
      flush();
      this.recordResult(c, result, reported, r, nowMs, deltas, outcome, failedClients, distributorWeights);
    }
    flush();
    this.writes.applyDeltas(deltas, nowMs);
    outcome.unitsToValidate = this.writes.effects.held;
    if (this.writes.effects.reopened > 0) outcome.unitsReopened = true;
    return outcome;
  }

  /**
   * The common case, batched: core/result-plan.ts `finishesAlone` (an OK result alone finishing a
   * quorum-1 unit). Queues in `queued` the writes the general path ({@link recordResult}) makes;
   * false when the case does not apply. A quorum-1 unit has no OK copy in its round while open (the
   * first one finishes it), so there are no losing copies to invalidate and no one to judge.
   */
  private finishAlone(c: CopyWithUnitRow, result: ReportedResult, reported: Reported, r: Rules, deltas: CountDeltas, queued: FastFinish[]): boolean {
    if (!this.batchFinishes) return false;
    const from = unitStateOf(c.unit_state);
    const t = finishesAlone(from, c.round === c.unit_round, c.outcome === O.pending, unitCounters(c), reported, r);
    if (t === undefined) return false;
    deltas.copiesOut(c.project_id, -1);
    deltas.move(c.project_id, from, "done");
    queued.push({
      copySeq: c.id,
      unitSeq: c.unit_id,
      projectSeq: c.project_id,
      clientId: result.clientId ?? null,
      ...voterColumns(result),
      durationMs: result.durationMs ?? null,
      output: reported.canonical!,
      hash: reported.hash!,
      pending: t.pending,
      attempts: t.attempts,
    });
    return true;
  }

  /**
   * Records one accepted result, reading the unit's round as it stands: any case, one row at a time,
   * as core/result-plan.ts `planReportedResult` plans it. `failedClients` (see
   * {@link reportedWithFailedClients}) tells whether a failure comes from a client that already
   * failed a copy of the unit in its round; a failure recorded here joins it.
   */
  private recordResult(
    c: CopyWithUnitRow,
    result: ReportedResult,
    reported: Reported,
    r: Rules,
    nowMs: number,
    deltas: CountDeltas,
    outcome: RecordResultsOutcome,
    failedClients: FailedClients<number>,
    distributorWeights: Map<number, number>,
  ): void {
    const { kind, hash, canonical, error } = reported;
    const { clientKey, clientHost } = voterColumns(result);
    const copy: ReportedCopy = {
      was: c.outcome === O.pending ? "pending" : c.outcome === O.released ? "released" : "other",
      currentRound: c.round === c.unit_round,
      unitState: unitStateOf(c.unit_state),
      unitHash: c.unit_hash ?? undefined,
      counters: unitCounters(c),
    };
    const plan = planReportedResult({
      copy,
      reported,
      voter: clientKey === null ? undefined : voterTags({ clientKey, clientHost: clientHost ?? undefined, distributorId: formatId("d", c.distributor_id) }),
      clientKeyed: clientKey !== null && clientKey !== "",
      rules: r,
      votes: () => this.writes.roundVotes(c.unit_id, c.round),
      repeatClient: () => result.clientId !== undefined && !failedClients.note(c.unit_id, result.clientId),
      trust: () => ({
        trust: (this.q.trustOf.get(c.distributor_id, clientKey) as number | undefined) ?? 0,
        distributorWeight: () => this.distributorWeight(c.distributor_id, distributorWeights),
      }),
      random: this.random,
    });
    if (c.outcome === O.pending) deltas.copiesOut(c.project_id, -1);
    if (plan.kind === "late") {
      this.q.recordCopy.run(O[plan.outcome], nowMs, result.clientId ?? null, hash ?? null, error ?? null, result.durationMs ?? null, null, clientKey, clientHost, c.id);
      if (plan.endsPending) this.q.setPending.run(c.unit_id);
      return;
    }
    const keepOutput = plan.keepOutput ? canonical : undefined;
    this.q.recordCopy.run(O[kind], nowMs, result.clientId ?? null, hash ?? null, error ?? null, result.durationMs ?? null, keepOutput ?? null, clientKey, clientHost, c.id);
    const t = plan.transition;
    const finished = this.writes.writeTransition(c.project_id, c.unit_id, c.round, copy.unitState, t, nowMs, deltas, kind === "ok" ? canonical : undefined, error, r.hasValidator);
    if (t.unreplicated) this.q.setUnreplicated.run(`${c.distributor_id}:${clientKey}`, c.unit_id);
    if (finished) outcome.unitsFinished += 1;
    if (t.need > 0) outcome.unitsReopened = true;
  }

  /** A distributor's weight (core/distributor-trust.ts), read once per batch into `weights`. */
  private distributorWeight(distributor: number, weights: Map<number, number>): number {
    let weight = weights.get(distributor);
    if (weight === undefined) {
      const [validated, wrong] = this.q.distributorVerdicts.get(distributor) as [number, number];
      weights.set(distributor, (weight = distributorWeight({ validated, wrong })));
    }
    return weight;
  }

  /**
   * The outcome of each result of a report batch that will be recorded (`reportedAt[i]`, undefined
   * for the ones recordResults will skip as unknown, refused or already received), and for the
   * units that a client reports a failure for, the clients that already failed a copy of their
   * current round (`failedClients`). One statement for the whole batch, none when nothing failed.
   */
  private reportedWithFailedClients(
    distributor: number,
    results: readonly ReportedResult[],
    seqs: readonly number[],
    rows: Map<number, CopyWithUnitRow>,
    rules: Map<number, Rules>,
  ): { reportedAt: Array<Reported | undefined>; failedClients: FailedClients<number> } {
    const reportedAt = new Array<Reported | undefined>(results.length);
    const failing: number[] = [];
    for (let i = 0; i < results.length; i++) {
      const c = rows.get(seqs[i]!);
      if (c === undefined || c.distributor_id !== distributor || c.received_at !== null) continue;
      const reported = reportedOutcome(results[i]!, this.writes.rules(rules, c.project_id).outputEncoding);
      reportedAt[i] = reported;
      if (reported.kind !== "ok" && results[i]!.clientId !== undefined) failing.push(c.unit_id);
    }
    const failedClients = new FailedClients<number>();
    if (failing.length === 0) return { reportedAt, failedClients };
    for (const [unitId, clientId] of this.q.failedClients.all(JSON.stringify(failing)) as Array<[number, string]>) failedClients.note(unitId, clientId);
    return { reportedAt, failedClients };
  }

  /** The copies (with their units) of a batch, by copy row id; one statement. Unknown ids are absent. */
  private copiesWithUnits(seqs: readonly number[]): Map<number, CopyWithUnitRow> {
    const rows = this.q.copiesWithUnits.all(JSON.stringify(seqs)) as unknown[][];
    const byId = new Map<number, CopyWithUnitRow>();
    for (const row of rows) {
      const c = copyWithUnitOf(row);
      byId.set(c.id, c);
    }
    return byId;
  }

  private copyWithUnit(seq: number): CopyWithUnitRow | undefined {
    return this.q.copyWithUnit.get(seq) as CopyWithUnitRow | undefined;
  }
}

/** A copy row's unit round counters. */
export function unitCounters(c: CopyWithUnitRow): { pending: number; attempts: number; repeatFailures: number } {
  return { pending: c.pending, attempts: c.attempts, repeatFailures: c.repeat_failures };
}
