import type { Task, TaskResult } from "../../gen/disio/v1/common_pb.js";
import { limitOutput } from "../output-limit.js";
import type { ClientHandlerEvents } from "./client-handler-events.js";
import type { CreditTuner } from "./credit-tuner.js";
import type { Heartbeats } from "./heartbeats.js";
import { inHandCheck } from "./in-hand-check.js";
import type { Session } from "./join-distributor.js";
import type { ProgramCache } from "./program-cache.js";
import type { QueuedResult, ReportQueue, ReportSettlement } from "./report-queue.js";
import { programErrorResult, toProtoTaskResult, toRunnableTask } from "./task-mapper.js";
import type { UnitProcessor, UnitResult } from "./unit-processor.js";

/** What a {@link TaskBook} works with: the handler's parts it shares, and how to tell the handler. */
export interface TaskBookDeps {
  processor: UnitProcessor;
  programs: ProgramCache;
  credit: CreditTuner;
  reports: ReportQueue<Session>;
  heartbeats: Heartbeats;
  /** The session tasks are taken under now (undefined between sessions). */
  session(): Session | undefined;
  /** Whether the handler is suspended (tasks arriving meanwhile are left to the stream's end). */
  suspended(): boolean;
  /** Whether the handler is stopping (no more credit growth). */
  stopping(): boolean;
  now(): number;
  emit<K extends keyof ClientHandlerEvents>(event: K, payload: ClientHandlerEvents[K]): void;
  /** Something the handler may be waiting on changed. */
  notify(): void;
}

/** What a leaving client owes the distributor (see {@link TaskBook.settleForFarewell}). */
export interface Farewell {
  /** Finished results not yet reported (taken out of the report queue: the farewell reports them). */
  owed: QueuedResult<Session>[];
  /** Results on the wire and not yet acknowledged: sent again with the farewell, counted by their own call. */
  onTheWire: QueuedResult<Session>[];
  /** Copies to hand back unstarted. */
  returned: string[];
}

/**
 * The tasks a client handler holds, from the Work stream to the acknowledged Report: takes tasks
 * (each once), gets their program verified, runs them on the processor, queues their results for
 * the session that holds them, settles acknowledgements and refusals, and hands copies back.
 */
export class TaskBook {
  /** copy id → the session it was given under (reports must use that session). */
  private readonly inHand = new Map<string, Session>();
  /** Copies the distributor cancelled while they were in the processor or awaiting their program. */
  private readonly cancelled = new Set<string>();
  private inProcessor = 0;
  private awaitingProgram = 0;
  /** Results with an output the distributor acknowledged. */
  completed = 0;
  /** Error results the distributor acknowledged. */
  failed = 0;

  constructor(private readonly deps: TaskBookDeps) {}

  /** Tasks in hand: received and not yet acknowledged (or dropped). */
  get size(): number {
    return this.inHand.size;
  }

  /** Whether no task is running or waiting for its program. */
  get idle(): boolean {
    return this.inProcessor === 0 && this.awaitingProgram === 0;
  }

  /** Tasks held under `session`. */
  holding(session: Session): number {
    let holding = 0;
    for (const holder of this.inHand.values()) if (holder === session) holding++;
    return holding;
  }

  /**
   * Takes a Work message's tasks. A task already in hand is not run twice; if it was given under an
   * older session (a rejoin after a distributor restart), the new session is the one that holds it
   * now, so its result is reported there and frees that stream's credit.
   */
  accept(session: Session, tasks: Task[]): void {
    // Tasks still arriving on a stream being closed for a suspension: that stream's end requeues them.
    if (this.deps.suspended()) return;
    const { credit, reports } = this.deps;
    const byProgram = new Map<string, Task[]>();
    const adopted = new Set<string>();
    for (const task of tasks) {
      const holder = this.inHand.get(task.copyId);
      if (holder !== undefined) {
        if (holder !== session) {
          this.inHand.set(task.copyId, session);
          adopted.add(task.copyId);
        }
        continue;
      }
      this.inHand.set(task.copyId, session);
      credit.taskArrived(task.input.byteLength);
      let group = byProgram.get(task.programHash);
      if (group === undefined) byProgram.set(task.programHash, (group = []));
      group.push(task);
    }
    reports.rekey(adopted, session);
    const capped = credit.capToBytes();
    if (capped !== undefined) this.deps.emit("creditChanged", { slots: capped });
    for (const [hash, group] of byProgram) this.runWhenVerified(session, hash, group);
  }

  /** Runs a program's tasks once the program is verified; else reports or hands them back. */
  private runWhenVerified(session: Session, hash: string, group: Task[]): void {
    this.awaitingProgram += group.length;
    void this.deps.programs.get(hash, session.publicKey).then((verdict) => {
      this.awaitingProgram -= group.length;
      this.deps.notify();
      // A suspension meanwhile handed these back; tasks cancelled while their program was on its way never start.
      const live = group.filter((task) => !this.cancelled.delete(task.copyId) && this.inHand.has(task.copyId));
      if (live.length === 0) return;
      if (!verdict.ok && verdict.retryable === true) {
        this.handBack(live.map((task) => task.copyId));
        this.deps.emit("programUnavailable", { hash, reason: verdict.reason, tasks: live.length });
        return;
      }
      if (!verdict.ok) {
        this.deps.emit("programRejected", { hash, reason: verdict.reason, tasks: live.length });
        this.addResults(live.map((task) => programErrorResult(task.copyId, verdict.reason)));
        return;
      }
      this.inProcessor += live.length;
      this.deps.processor.run(live.map((task) => toRunnableTask(task, verdict.source, session.maxRunTimeMs)));
    });
  }

  /**
   * Drops tasks the distributor cancelled from our hands: they are not reported and free their
   * slots. Those already in the processor are told to it; their results are ignored when they come.
   */
  cancel(session: Session, copyIds: readonly string[]): void {
    const dropped: string[] = [];
    for (const copyId of copyIds) {
      if (this.inHand.get(copyId) !== session) continue;
      this.inHand.delete(copyId);
      this.cancelled.add(copyId);
      dropped.push(copyId);
    }
    if (dropped.length === 0) return;
    this.deps.processor.cancel?.(dropped);
    this.deps.emit("cancelled", { tasks: dropped.length });
    this.deps.notify();
  }

  /** Takes the processor's results: queued for Report, and the credit tuned to how fast units run. */
  onProcessorResults(results: UnitResult[]): void {
    const { credit } = this.deps;
    let counted = 0;
    let cancelled = 0;
    for (const result of results) {
      if (!this.inHand.has(result.copyId)) {
        if (this.cancelled.delete(result.copyId)) cancelled++;
        continue;
      }
      counted++;
      credit.resultFinished(result.outcome.ok, result.durationMs);
    }
    this.inProcessor = Math.max(0, this.inProcessor - counted - cancelled);
    this.addResults(results);
    if (this.deps.stopping()) return;
    const grown = credit.considerGrowth(this.deps.now(), this.deps.session()?.taskLeaseMs);
    // The stream stays open: the next Report (results are waiting for one) carries the new credit.
    if (grown !== undefined) this.deps.emit("creditChanged", { slots: grown });
  }

  private addResults(results: UnitResult[]): void {
    for (const result of results) {
      const session = this.inHand.get(result.copyId);
      if (session === undefined) continue;
      const outcome = limitOutput(result.outcome);
      const bytes = outcome.ok ? outcome.output.length : outcome.message.length;
      this.deps.reports.add(session, toProtoTaskResult(outcome === result.outcome ? result : { ...result, outcome }), outcome.ok, bytes);
    }
    this.deps.notify();
  }

  /** Settles a Report: acknowledged results leave our hands, refused ones go to their current session. */
  onReportSettled(settlement: ReportSettlement<Session>): void {
    const { batch } = settlement;
    if (settlement.kind === "acknowledged") {
      this.deps.credit.reportRoundTrip(settlement.roundTripMs);
      const refused = new Set(settlement.refusedCopyIds);
      let completed = 0;
      let failed = 0;
      for (const entry of batch) {
        if (refused.has(entry.result.copyId)) {
          this.settleRefused(entry);
          continue;
        }
        this.inHand.delete(entry.result.copyId);
        if (entry.ok) completed++;
        else failed++;
      }
      this.completed += completed;
      this.failed += failed;
      this.deps.emit("reported", {
        results: batch.length,
        accepted: settlement.accepted,
        duplicates: settlement.duplicates,
        refused: refused.size,
        completed,
        failed,
        roundTripMs: settlement.roundTripMs,
      });
    } else {
      if (settlement.dropped) for (const entry of batch) this.settleRefused(entry);
      this.deps.emit("reportFailed", { error: settlement.error, results: batch.length, dropped: settlement.dropped });
    }
    this.deps.notify();
  }

  /**
   * A result the distributor refused under the session it was sent with: sent again under the
   * session that holds its copy now (it was handed to a newer one), else dropped.
   */
  private settleRefused(entry: { key: Session; result: TaskResult; ok: boolean; bytes: number }): void {
    const holder = this.inHand.get(entry.result.copyId);
    if (holder !== undefined && holder !== entry.key) this.deps.reports.add(holder, entry.result, entry.ok, entry.bytes);
    else this.inHand.delete(entry.result.copyId);
  }

  /**
   * Hands copies back unstarted: they leave our hands now and go out with the next heartbeat Report
   * (those of an older session went back when its stream ended).
   */
  handBack(copyIds: readonly string[]): void {
    const current: string[] = [];
    const session = this.deps.session();
    for (const copyId of copyIds) {
      const holder = this.inHand.get(copyId);
      if (holder === undefined) continue;
      this.inHand.delete(copyId);
      if (holder === session) current.push(copyId);
    }
    this.deps.heartbeats.handBack(current);
    this.deps.notify();
  }

  /**
   * Empties our hands for a farewell: the processor's tasks are dropped (its `abandon`), and what is
   * owed under `session` is taken out of the queues: its finished results not yet reported, those on
   * the wire (an unloading page's calls are cancelled), and its other copies (plus those waiting to
   * be handed back) to return unstarted.
   */
  settleForFarewell(session: Session | undefined): Farewell {
    this.deps.processor.abandon?.();
    this.inProcessor = 0;
    const owed = session === undefined ? [] : this.deps.reports.takePending(session);
    const onTheWire = session === undefined ? [] : this.deps.reports.onTheWire(session);
    const returned = this.deps.heartbeats.takeReturns();
    const finished = new Set([...owed, ...onTheWire].map((entry) => entry.result.copyId));
    for (const [copyId, holder] of this.inHand) if (holder === session && !finished.has(copyId)) returned.push(copyId);
    this.inHand.clear();
    this.deps.notify();
    return { owed, onTheWire, returned };
  }

  /** Counts a farewell's results once it was delivered. */
  farewellDelivered(owed: readonly QueuedResult<Session>[]): void {
    const ok = owed.filter((entry) => entry.ok).length;
    this.completed += ok;
    this.failed += owed.length - ok;
  }

  /**
   * Checks a keep-alive's count of tasks the distributor holds us for; true when the stream should
   * be reopened (see {@link inHandCheck}).
   */
  checkInHand(session: Session, counted: number, strikes: number): { strikes: number; reopen: boolean; holding: number } {
    const holding = this.holding(session);
    return { ...inHandCheck(strikes, counted, holding), holding };
  }

  /** Forgets every task (the handler stopped). */
  clear(): void {
    this.inHand.clear();
  }
}
