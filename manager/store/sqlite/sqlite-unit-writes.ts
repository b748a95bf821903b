import { resultFieldsMiddle } from "./result-fields-sql.js";
import { trustAfter } from "../../../core/client-trust.js";
import type { PayloadEncoding } from "../../../core/project-settings.js";
import { planUnitWrite, recheckNeed, type ProjectRules, type RoundVote, type TrustVerdict, type UnitWrite } from "../../../core/result-plan.js";
import { unitStateOf } from "./codes.js";
import type { UnitState, UnitTransition } from "../../../core/unit-transitions.js";
import { voterTags } from "../../../core/voter-tags.js";
import { formatId } from "../../ids.js";
import { UNIT_STATE_CODE as S } from "./codes.js";
import type { CountDeltas } from "./count-deltas.js";
import type { prepareQueries } from "./queries.js";
import type { ProjectRow, UnitRow } from "./rows.js";

/** The manager store's prepared statements (see queries.ts). */
export type Queries = ReturnType<typeof prepareQueries>;

/** A project's rules and output encoding, cached for one transaction. */
export interface Rules extends ProjectRules {
  outputEncoding: PayloadEncoding;
}

/** A round's OK copy as read here: copy and distributor by row id. */
export type Vote = RoundVote<number, number>;

/**
 * Applies the write plans of core/result-plan.ts to the SQLite rows of units, copies, results and
 * client trust, inside the transaction of the operation that asked for them. Decides nothing.
 */
export class SqliteUnitWrites {
  /**
   * What the transaction running now did beside its own units, read and reset by the public
   * operation that runs it: units held for their validator, and units sent back to full quorum
   * because the client they were accepted from alone was caught wrong.
   */
  effects = { held: 0, reopened: 0 };

  constructor(private readonly q: Queries) {}

  /** Starts counting {@link effects} for a new operation. */
  resetEffects(): void {
    this.effects = { held: 0, reopened: 0 };
  }

  /** A project's rules, read once per `cache` (one transaction). */
  rules(cache: Map<number, Rules>, projectId: number): Rules {
    let r = cache.get(projectId);
    if (r === undefined) {
      const row = this.q.project.get(projectId) as ProjectRow;
      r = { ...rulesOf(row), outputEncoding: row.output_encoding as PayloadEncoding, hasValidator: row.has_validator === 1 };
      cache.set(projectId, r);
    }
    return r;
  }

  /**
   * A round's OK copies, oldest first: output hash, class (see core/validator-classes.ts),
   * distributor, client key and voter tags (undefined for a copy recorded before voters were kept).
   */
  roundVotes(unitId: number, round: number): Vote[] {
    return (this.q.okVotes.all(unitId, round) as Array<[string, number, string | null, string | null, string | null, number]>).map(
      ([hash, distributor, clientKey, clientHost, voteHash, id]) => ({
        copy: id,
        hash,
        classHash: voteHash ?? undefined,
        distributor,
        clientKey,
        voter: clientKey === null ? undefined : voterTags({ clientKey, clientHost: clientHost ?? undefined, distributorId: formatId("d", distributor) }),
      }),
    );
  }

  /**
   * Plans (core/result-plan.ts) and writes an open unit's transition. `output`: the canonical output
   * when the event itself brought the winning one. Returns true when the unit reached a final state.
   */
  writeTransition(
    projectId: number,
    unitId: number,
    round: number,
    from: UnitState,
    t: UnitTransition,
    nowMs: number,
    deltas: CountDeltas,
    output: Uint8Array | undefined,
    error: string | undefined,
    hasValidator: boolean,
  ): boolean {
    const write = planUnitWrite(t, () => this.roundVotes(unitId, round), hasValidator);
    return this.applyUnitWrite(projectId, unitId, round, from, t, write, nowMs, deltas, output, error);
  }

  /**
   * Writes an open unit's planned transition: its counters, and when it finished, its result (log
   * entry, canonical output, losing copies marked invalid), its clients' trust and a notice for
   * distributors holding copies. Returns true when the unit reached a final state.
   */
  private applyUnitWrite(
    projectId: number,
    unitId: number,
    round: number,
    from: UnitState,
    t: UnitTransition,
    write: UnitWrite<number, number>,
    nowMs: number,
    deltas: CountDeltas,
    output: Uint8Array | undefined,
    error: string | undefined,
  ): boolean {
    switch (write.kind) {
      case "hold":
        // Held off this transaction until the validation queue compared the outputs (see applyValidations).
        deltas.move(projectId, from, write.state);
        this.q.updateUnit.run(S[write.state], 0, t.pending, t.attempts, t.repeatFailures, error ?? null, unitId);
        this.q.setValidating.run(1, unitId);
        this.effects.held += 1;
        return false;
      case "open":
        deltas.move(projectId, from, t.state);
        this.q.updateUnit.run(S[t.state], t.need, t.pending, t.attempts, t.repeatFailures, error ?? null, unitId);
        return false;
      case "failed":
        deltas.move(projectId, from, "failed");
        this.q.finishUnit.run(S.failed, t.pending, t.attempts, t.repeatFailures, nowMs, null, null, null, error ?? null, unitId);
        break;
      case "done": {
        deltas.move(projectId, from, "done");
        const hash = write.winningHash;
        const canonical = output ?? (this.q.winnerOutput.get(unitId, round, hash) as Buffer | undefined) ?? new Uint8Array();
        const seq = Number(this.q.insertResult.run(projectId, unitId).lastInsertRowid);
        this.q.finishUnit.run(S.done, t.pending, t.attempts, t.repeatFailures, nowMs, canonical, hash, seq, null, unitId);
        this.q.setResultFields.run({ middle: resultFieldsMiddle(canonical, hash, nowMs), unit: unitId });
        if (write.selfAgreement) this.q.setSelfAgreement.run(1, unitId);
        this.applyVerdicts(write.verdicts, nowMs, deltas);
        if (write.invalid.length > 0) this.q.invalidateCopies.run(JSON.stringify(write.invalid));
        break;
      }
    }
    if (t.pending > 0) this.q.insertNotice.run(unitId, nowMs);
    return true;
  }

  /**
   * Applies trust verdicts in order (core/client-trust.ts `trustAfter` on each client's record), and
   * sends back to full quorum the units accepted alone from each client caught wrong.
   */
  applyVerdicts(verdicts: readonly TrustVerdict<number>[], nowMs: number, deltas: CountDeltas): void {
    for (const { distributor: d, trustKey, verdict, recheckKey } of verdicts) {
      const trust = trustAfter((this.q.trustOf.get(d, trustKey) as number | undefined) ?? 0, verdict);
      this.q.putTrust.run({ d, key: trustKey, trust, validated: verdict === "validated" ? 1 : 0, wrong: verdict === "wrong" ? 1 : 0, now: nowMs });
      if (recheckKey !== undefined) this.recheckAcceptedFrom(d, recheckKey, nowMs, deltas);
    }
  }

  /**
   * Sends every unit accepted alone from a client (adaptive replication) back to full quorum: it
   * was just caught wrong, so its word alone proves nothing. Each such unit reopens in its round,
   * the lone copy still a vote, asking for the copies core/result-plan.ts `recheckNeed` counts; its
   * result leaves the log until the unit is done again.
   */
  private recheckAcceptedFrom(distributor: number, clientKey: string, nowMs: number, deltas: CountDeltas): void {
    for (const seq of this.q.acceptedFrom.all(`${distributor}:${clientKey}`) as number[]) {
      const unit = this.q.unit.get(seq) as UnitRow;
      if (unitStateOf(unit.state) !== "done") continue;
      const project = this.q.project.get(unit.project_id) as ProjectRow;
      const counters = { pending: unit.pending, attempts: unit.attempts, repeatFailures: unit.repeat_failures };
      this.q.reopenUnreplicated.run(recheckNeed(counters, this.roundVotes(seq, unit.round), rulesOf(project)), seq);
      deltas.move(unit.project_id, "done", "queued");
      this.q.reopen.run(nowMs, unit.project_id);
      this.effects.reopened += 1;
    }
  }

  /** Writes the transaction's gathered counter changes, each project row once, and marks projects done. */
  applyDeltas(deltas: CountDeltas, nowMs: number): void {
    for (const [projectId, row] of deltas.rows()) {
      this.q.applyCounts.run(...row, projectId);
      this.q.markDone.run(nowMs, projectId);
    }
  }
}

/** A project row's quorum settings. */
export function rulesOf(row: ProjectRow): { replication: number; quorum: number; maxAttempts: number; adaptiveReplication: boolean } {
  return { replication: row.replication, quorum: row.quorum, maxAttempts: row.max_attempts, adaptiveReplication: row.adaptive_replication === 1 };
}
