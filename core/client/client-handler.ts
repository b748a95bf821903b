import { Code, ConnectError } from "@connectrpc/connect";
import type { Task, TaskResult } from "../../gen/disio/v1/common_pb.js";
import { backoffDelayMs } from "../backoff.js";
import { toBase64 } from "../base64.js";
import { limitOutput } from "../output-limit.js";
import type { Ed25519Verify } from "../program-signature.js";
import { resolveClientHandlerOptions, type ClientHandlerOptions, type ResolvedClientHandlerOptions } from "./client-handler-options.js";
import { TrustKeyMismatchError } from "./errors.js";
import type { ClientHandlerEvents, ClientHandlerState, ClientHandlerStats } from "./client-handler-events.js";
import { CreditTuner } from "./credit-tuner.js";
import { farewellReports, type FarewellLimits, type FarewellRequest } from "./farewell-reports.js";
import { Heartbeats } from "./heartbeats.js";
import { joinDistributor, type DistributorClient, type Session } from "./join-distributor.js";
import { inMemoryKeyMemory, type KeyMemory } from "./key-memory.js";
import { inHandCheck } from "./in-hand-check.js";
import { ProgramCache } from "./program-cache.js";
import { reconnectPlan } from "./reconnect-plan.js";
import { ReportQueue, type ReportSettlement } from "./report-queue.js";
import { programErrorResult, toProtoTaskResult, toRunnableTask } from "./task-mapper.js";
import type { UnitProcessor, UnitResult } from "./unit-processor.js";

/** Side effects of {@link ClientHandler}: how to reach a distributor, and what runs the units. */
export interface ClientHandlerDeps {
  /** Makes a client for a distributor base URL (called again for each redirect). */
  connect(baseUrl: string): DistributorClient;
  /** Runs the tasks. */
  processor: UnitProcessor;
  /**
   * Where manager keys trusted on first use are remembered, per distributor URL. Default
   * {@link inMemoryKeyMemory}: a key change is refused for as long as this handler lives.
   */
  keys?: KeyMemory;
  /** Monotonic clock in ms. Default `performance.now`. */
  now?: () => number;
  /** Ed25519 check of program signatures. Default WebCrypto (browsers without it pass a library's). */
  verify?: Ed25519Verify;
}

type Listener<K extends keyof ClientHandlerEvents> = (event: ClientHandlerEvents[K]) => void;

/**
 * Sends a farewell's Report requests to the distributor the session belongs to, with its session
 * headers. Called synchronously by {@link ClientHandler.suspend}: the first request must be on its
 * way before this returns (it may be the page's last act, e.g. a `fetch` with `keepalive`).
 */
export type FarewellSend = (target: { url: string; headers: Readonly<Record<string, string>> }, requests: readonly FarewellRequest[]) => Promise<void>;

/** Default farewell budgets: a keepalive fetch may carry 64 KiB (all such requests together). */
const DEFAULT_FAREWELL_LIMITS = { firstBytes: 60_000, restBytes: 4 * 1024 * 1024 };

/**
 * The client handler core, shared by `disio worker` and the browser client: joins a distributor
 * (following redirects), holds the Work stream with `slots` of credit, fetches and verifies each
 * program once, hands verified tasks to a {@link UnitProcessor}, batches results into Report calls,
 * reconnects with backoff, and drains on {@link ClientHandler.stop}.
 *
 * Tasks whose program is missing or fails verification never reach the processor; they are reported
 * as errors of kind "program".
 */
export class ClientHandler {
  private readonly options: ResolvedClientHandlerOptions;
  private readonly now: () => number;
  private readonly programs: ProgramCache;
  private readonly keys: KeyMemory;
  private readonly listeners = new Map<keyof ClientHandlerEvents, Set<(event: never) => void>>();
  private readonly stopSignal = new AbortController();

  private lifecycle: ClientHandlerState = "initialized";
  private session: Session | undefined;
  private streamAbort: AbortController | undefined;
  private readonly credit: CreditTuner;
  private loopDone: Promise<void> | undefined;
  private heartbeatDone: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private failure: Error | undefined;
  private settleClosed!: (error?: Error) => void;

  /** Settles when the handler ended: resolves after {@link ClientHandler.stop}, rejects when it failed. */
  readonly closed: Promise<void>;

  /** copy id → the session it was given under (reports must use that session). */
  private readonly inHand = new Map<string, Session>();
  private inProcessor = 0;
  private awaitingProgram = 0;
  private readonly reports: ReportQueue<Session>;
  private readonly waiters = new Set<() => void>();
  private readonly heartbeats: Heartbeats;
  /** Keep-alives in a row where the distributor counted more tasks in our hands than we hold. */
  private inHandStrikes = 0;
  /** The Work stream is being reopened on purpose (see `inHandCheck`), not lost. */
  private reopening = false;
  /** Suspended (see {@link ClientHandler.suspend}): no tasks taken, no stream reopened until resume. */
  private suspended = false;
  private wakeResumed: (() => void) | undefined;

  private completed = 0;
  private failed = 0;

  constructor(
    options: ClientHandlerOptions,
    private readonly deps: ClientHandlerDeps,
  ) {
    this.options = resolveClientHandlerOptions(options, deps.processor);
    this.now = deps.now ?? (() => performance.now());
    this.keys = deps.keys ?? inMemoryKeyMemory();
    this.credit = new CreditTuner({
      floor: this.options.slots,
      ceiling: this.options.maxSlots,
      executors: deps.processor.executors,
      reportDelayMs: this.options.reportDelayMs,
      maxBytesInHand: this.options.maxBytesInHand,
    });
    this.programs = new ProgramCache({
      fetch: (hash) => this.fetchProgram(hash),
      backoff: this.options.backoff,
      attempts: this.options.programFetchAttempts,
      sleep: (ms) => this.sleep(ms),
      verify: deps.verify,
    });
    this.reports = new ReportQueue<Session>(
      {
        maxBatch: this.options.reportBatch,
        maxBatchBytes: this.options.reportBatchBytes,
        maxDelayMs: this.options.reportDelayMs,
        concurrency: this.options.reportConcurrency,
        backoff: this.options.backoff,
      },
      {
        // Every Report carries the current credit: a grown credit reaches the open stream with the
        // next Report, and a lost Report loses nothing.
        send: (session, results) => {
          if (session === this.session) this.heartbeats.sent();
          return session.client.report({ results, slots: this.credit.slots }, { headers: session.headers, timeoutMs: this.options.callTimeoutMs });
        },
        settled: (settlement) => this.onReportSettled(settlement),
        now: this.now,
      },
    );
    this.heartbeats = new Heartbeats(
      {
        intervalMs: () => this.session?.heartbeatMs,
        connected: () => this.session !== undefined,
        send: async (returnedCopyIds) => {
          const session = this.session;
          if (session === undefined) throw new ConnectError("no session", Code.Unavailable);
          await session.client.report({ results: [], returnedCopyIds, slots: this.credit.slots }, { headers: session.headers, timeoutMs: this.options.callTimeoutMs });
        },
        onReturned: (tasks) => this.emit("returned", { tasks }),
        onFailed: (error) => this.emit("heartbeatFailed", { error: ConnectError.from(error) }),
        now: this.now,
        sleep: (ms) => this.sleep(ms),
        stopped: () => this.stopSignal.signal.aborted,
      },
      this.options.reportBatch,
    );
    deps.processor.onResults((results) => this.onProcessorResults(results));
    this.closed = new Promise<void>((resolve, reject) => {
      this.settleClosed = (error) => (error === undefined ? resolve() : reject(error));
    });
    // Marked handled here; whoever awaits `closed` still sees the rejection.
    this.closed.catch(() => undefined);
  }

  /** Where the lifecycle stands. */
  get state(): ClientHandlerState {
    return this.lifecycle;
  }

  /** Counters so far. */
  stats(): ClientHandlerStats {
    return { completed: this.completed, failed: this.failed, inFlight: this.inHand.size };
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof ClientHandlerEvents>(event: K, listener: Listener<K>): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) this.listeners.set(event, (set = new Set()));
    set.add(listener as (event: never) => void);
    return () => set.delete(listener as (event: never) => void);
  }

  /**
   * Starts joining and working in the background. Resolves at once; connection failures are retried
   * (see the `disconnected` event); {@link ClientHandler.closed} settles when the handler ends.
   */
  start(): void {
    if (this.lifecycle !== "initialized") throw new Error(`ClientHandler.start: already ${this.lifecycle}`);
    this.setState("connecting");
    this.loopDone = this.workLoop();
    this.heartbeatDone = this.heartbeats.run();
  }

  /**
   * Suspends work, for a browser tab that is hidden or closing: stops taking tasks, drops every task
   * the processor holds (its `abandon`), and settles what the client owes in one go through `send`,
   * called before this returns: the unfinished copies handed back (the distributor gives them to
   * others at once, no attempt used) and the finished results not yet reported. The Work stream ends
   * once that farewell settled (so the results are stored before the stream's end requeues what it
   * held). State `paused` until {@link ClientHandler.resume}; resolves when the farewell settled.
   */
  suspend(send: FarewellSend, limits: Partial<Omit<FarewellLimits, "maxEntries">> = {}): Promise<void> {
    if (this.lifecycle !== "running" && this.lifecycle !== "connecting") return Promise.resolve();
    this.suspended = true;
    this.setState("paused");
    this.deps.processor.abandon?.();
    this.inProcessor = 0;
    const session = this.session;
    const owed = session === undefined ? [] : this.reports.takePending(session);
    const returned = this.heartbeats.takeReturns();
    const finished = new Set(owed.map((entry) => entry.result.copyId));
    for (const [copyId, holder] of this.inHand) if (holder === session && !finished.has(copyId)) returned.push(copyId);
    this.inHand.clear();
    this.notify();
    const requests = farewellReports(
      owed.map((entry) => entry.result),
      returned,
      { ...DEFAULT_FAREWELL_LIMITS, ...limits, maxEntries: this.options.reportBatch },
    );
    const sent = session === undefined || requests.length === 0 ? Promise.resolve() : send({ url: session.url, headers: session.headers }, requests);
    return sent
      .then(
        () => {
          const ok = owed.filter((entry) => entry.ok).length;
          this.completed += ok;
          this.failed += owed.length - ok;
          if (returned.length > 0) this.emit("returned", { tasks: returned.length });
        },
        (error: unknown) => this.emit("reportFailed", { error: ConnectError.from(error), results: owed.length, dropped: true }),
      )
      .finally(() => {
        if (this.suspended) this.streamAbort?.abort();
      });
  }

  /** Takes tasks again after {@link ClientHandler.suspend} (the Work stream reopens on the same session). */
  resume(): void {
    if (!this.suspended || this.stopSignal.signal.aborted) return;
    this.suspended = false;
    this.setState(this.streamAbort?.signal.aborted === false ? "running" : "connecting");
    this.wakeResumed?.();
  }

  /**
   * Stops taking tasks, lets the processor finish the tasks in hand for up to `graceMs` (default
   * 10,000), reports every finished result (giving the reports at least 2 s more), stops the processor
   * and resolves. Tasks not finished in time are not reported: their leases give them to others.
   */
  stop(options: { graceMs?: number } = {}): Promise<void> {
    this.stopping ??= this.drain(options.graceMs ?? 10_000);
    return this.stopping;
  }

  private async drain(graceMs: number): Promise<void> {
    const deadline = this.now() + graceMs;
    if (this.lifecycle !== "failed") this.setState("draining");
    this.stopSignal.abort();
    this.streamAbort?.abort();
    await this.waitUntil(() => this.inProcessor === 0 && this.awaitingProgram === 0, deadline);
    this.reports.drain();
    await this.waitUntil(() => this.reports.idle, Math.max(deadline, this.now() + 2_000));
    this.reports.close();
    await this.deps.processor.stop();
    if (this.loopDone !== undefined && this.lifecycle !== "failed") await this.loopDone;
    await this.heartbeatDone;
    this.inHand.clear();
    if (this.lifecycle !== "failed") this.setState("stopped");
    this.settleClosed(this.failure);
  }

  // ---- connection ------------------------------------------------------------------------------

  private async workLoop(): Promise<void> {
    let failures = 0;
    while (!this.stopSignal.signal.aborted) {
      if (this.suspended) {
        await this.untilResumed();
        failures = 0;
        continue;
      }
      const streamAbort = new AbortController();
      this.streamAbort = streamAbort;
      let failure: unknown;
      try {
        if (this.session === undefined) {
          this.session = await this.join(streamAbort.signal);
          this.heartbeats.reset();
        }
        const session = this.session;
        this.credit.streamOpened();
        this.inHandStrikes = 0;
        this.emit("streamOpened", { slots: this.credit.slots });
        if (!this.suspended) this.setState("running");
        const stream = session.client.work({ slots: this.credit.slots }, { headers: session.headers, signal: streamAbort.signal });
        for await (const response of stream) {
          failures = 0;
          if (response.pause) this.emit("paused", {});
          if (response.tasks.length > 0) this.accept(session, response.tasks);
          else if (response.inHand !== undefined) this.checkInHand(session, response.inHand, streamAbort);
        }
        failure = new ConnectError("the distributor ended the work stream", Code.Unavailable);
      } catch (error) {
        failure = error;
      }
      if (this.stopSignal.signal.aborted) break;
      if (this.suspended) continue;
      if (this.reopening) {
        this.reopening = false;
        continue;
      }
      failures++;
      const plan = reconnectPlan(ConnectError.from(failure).code, failures, failure instanceof TrustKeyMismatchError);
      if (plan.fatal) {
        this.fail(failure instanceof Error ? failure : new Error(String(failure)));
        return;
      }
      if (plan.rejoin) this.session = undefined;
      const retryInMs = backoffDelayMs(failures - 1, this.options.backoff);
      this.setState("connecting");
      this.emit("disconnected", { error: ConnectError.from(failure), retryInMs, rejoin: plan.rejoin });
      await this.sleep(retryInMs);
    }
  }

  private async join(signal: AbortSignal): Promise<Session> {
    const session = await joinDistributor(this.options, (url) => this.deps.connect(url), this.keys, signal, (from, to) => this.emit("redirected", { from, to }));
    this.emit("trusted", {
      distributorUrl: this.options.distributorUrl,
      groupId: session.trust.groupId,
      publicKey: session.publicKey === undefined ? undefined : toBase64(session.publicKey),
      how: session.trust.how,
    });
    this.emit("joined", { clientId: session.clientId, distributorUrl: session.url, taskLeaseMs: session.taskLeaseMs, maxRunTimeMs: session.maxRunTimeMs });
    return session;
  }

  private async fetchProgram(hash: string): Promise<{ hash: string; source: string; signature: Uint8Array } | undefined> {
    const session = this.session;
    if (session === undefined) throw new ConnectError("no session", Code.Unavailable);
    try {
      const response = await session.client.getProgram({ hash }, { timeoutMs: this.options.callTimeoutMs });
      return response.program;
    } catch (error) {
      if (ConnectError.from(error).code === Code.NotFound) return undefined;
      throw error;
    }
  }

  // ---- tasks -----------------------------------------------------------------------------------

  /**
   * Takes a Work message's tasks. A task already in hand is not run twice; if it was given under an
   * older session (a rejoin after a distributor restart), the new session is the one that holds it
   * now, so its result is reported there and frees that stream's credit.
   */
  private accept(session: Session, tasks: Task[]): void {
    const byProgram = new Map<string, Task[]>();
    const adopted = new Set<string>();
    // Tasks still arriving on a stream being closed for a suspension: that stream's end requeues them.
    if (this.suspended) return;
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
      this.credit.taskArrived(task.input.byteLength);
      let group = byProgram.get(task.programHash);
      if (group === undefined) byProgram.set(task.programHash, (group = []));
      group.push(task);
    }
    this.reports.rekey(adopted, session);
    const capped = this.credit.capToBytes();
    if (capped !== undefined) this.emit("creditChanged", { slots: capped });
    for (const [hash, group] of byProgram) {
      this.awaitingProgram += group.length;
      void this.programs.get(hash, session.publicKey).then((verdict) => {
        this.awaitingProgram -= group.length;
        this.notify();
        // A suspension meanwhile handed these back.
        const live = group.filter((task) => this.inHand.has(task.copyId));
        if (live.length === 0) return;
        if (!verdict.ok && verdict.retryable === true) {
          this.handBack(live.map((task) => task.copyId));
          this.emit("programUnavailable", { hash, reason: verdict.reason, tasks: live.length });
          return;
        }
        if (!verdict.ok) {
          this.emit("programRejected", { hash, reason: verdict.reason, tasks: live.length });
          this.addResults(live.map((task) => programErrorResult(task.copyId, verdict.reason)));
          return;
        }
        this.inProcessor += live.length;
        this.deps.processor.run(live.map((task) => toRunnableTask(task, verdict.source, session.maxRunTimeMs)));
      });
    }
  }

  private onProcessorResults(results: UnitResult[]): void {
    let counted = 0;
    for (const result of results) {
      if (!this.inHand.has(result.copyId)) continue;
      counted++;
      this.credit.resultFinished(result.outcome.ok, result.durationMs);
    }
    this.inProcessor = Math.max(0, this.inProcessor - counted);
    this.addResults(results);
    if (this.stopSignal.signal.aborted) return;
    const grown = this.credit.considerGrowth(this.now(), this.session?.taskLeaseMs);
    // The stream stays open: the next Report (results are waiting for one) carries the new credit.
    if (grown !== undefined) this.emit("creditChanged", { slots: grown });
  }

  private addResults(results: UnitResult[]): void {
    for (const result of results) {
      const session = this.inHand.get(result.copyId);
      if (session === undefined) continue;
      const outcome = limitOutput(result.outcome);
      const bytes = outcome.ok ? outcome.output.length : outcome.message.length;
      this.reports.add(session, toProtoTaskResult(outcome === result.outcome ? result : { ...result, outcome }), outcome.ok, bytes);
    }
    this.notify();
  }

  private onReportSettled(settlement: ReportSettlement<Session>): void {
    const { batch } = settlement;
    if (settlement.kind === "acknowledged") {
      this.credit.reportRoundTrip(settlement.roundTripMs);
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
      this.emit("reported", {
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
      this.emit("reportFailed", { error: settlement.error, results: batch.length, dropped: settlement.dropped });
    }
    this.notify();
  }

  /**
   * A result the distributor refused under the session it was sent with: sent again under the
   * session that holds its copy now (it was handed to a newer one), else dropped.
   */
  private settleRefused(entry: { key: Session; result: TaskResult; ok: boolean; bytes: number }): void {
    const holder = this.inHand.get(entry.result.copyId);
    if (holder !== undefined && holder !== entry.key) this.reports.add(holder, entry.result, entry.ok, entry.bytes);
    else this.inHand.delete(entry.result.copyId);
  }

  // ---- liveness --------------------------------------------------------------------------------

  /**
   * Hands copies back unstarted: they leave our hands now and go out with the next heartbeat Report
   * (those of an older session went back when its stream ended).
   */
  private handBack(copyIds: readonly string[]): void {
    const current: string[] = [];
    for (const copyId of copyIds) {
      const session = this.inHand.get(copyId);
      if (session === undefined) continue;
      this.inHand.delete(copyId);
      if (session === this.session) current.push(copyId);
    }
    this.heartbeats.handBack(current);
    this.notify();
  }

  /** Reopens the stream when the distributor keeps counting more tasks in our hands than we hold. */
  private checkInHand(session: Session, counted: number, stream: AbortController): void {
    let holding = 0;
    for (const holder of this.inHand.values()) if (holder === session) holding++;
    const check = inHandCheck(this.inHandStrikes, counted, holding);
    this.inHandStrikes = check.strikes;
    if (!check.reopen) return;
    this.emit("streamResynced", { counted, holding });
    this.reopening = true;
    stream.abort();
  }

  // ---- plumbing --------------------------------------------------------------------------------

  private fail(error: Error): void {
    this.failure = error;
    this.setState("failed");
    this.emit("failed", { error });
    void this.stop({ graceMs: 0 });
  }

  private setState(state: ClientHandlerState): void {
    if (this.lifecycle === state) return;
    this.lifecycle = state;
    this.emit("state", { state });
  }

  private emit<K extends keyof ClientHandlerEvents>(event: K, payload: ClientHandlerEvents[K]): void {
    const set = this.listeners.get(event);
    if (set === undefined) return;
    for (const listener of set) (listener as Listener<K>)(payload);
  }

  private notify(): void {
    for (const waiter of this.waiters) waiter();
    this.waiters.clear();
  }

  /** Resolves when `done()` holds (checked after each change) or at `deadlineMs`. */
  private async waitUntil(done: () => boolean, deadlineMs: number): Promise<void> {
    while (!done()) {
      const left = deadlineMs - this.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(finish, left);
        function finish(): void {
          clearTimeout(timer);
          resolve();
        }
        this.waiters.add(finish);
      });
    }
  }

  /** Resolves on {@link ClientHandler.resume} or stop. */
  private untilResumed(): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.stopSignal.signal;
      const done = (): void => {
        this.wakeResumed = undefined;
        signal.removeEventListener("abort", done);
        resolve();
      };
      if (!this.suspended || signal.aborted) return resolve();
      this.wakeResumed = done;
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** Sleeps `ms`, cut short by stop. */
  private sleep(ms: number): Promise<void> {
    const signal = this.stopSignal.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
    });
  }
}
