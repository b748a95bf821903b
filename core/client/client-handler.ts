import { Code, ConnectError } from "@connectrpc/connect";
import { backoffDelayMs } from "../backoff.js";
import { toBase64 } from "../base64.js";
import type { ClientHandlerDeps, FarewellSend } from "./client-handler-deps.js";
import { resolveClientHandlerOptions, type ClientHandlerOptions, type ResolvedClientHandlerOptions } from "./client-handler-options.js";
import { TrustKeyMismatchError } from "./errors.js";
import type { ClientHandlerEvents, ClientHandlerState, ClientHandlerStats } from "./client-handler-events.js";
import { CreditTuner } from "./credit-tuner.js";
import { farewellReports, type FarewellLimits } from "./farewell-reports.js";
import { Heartbeats } from "./heartbeats.js";
import { joinDistributor, type Session } from "./join-distributor.js";
import { inMemoryKeyMemory, type KeyMemory } from "./key-memory.js";
import { ProgramCache } from "./program-cache.js";
import { reconnectPlan } from "./reconnect-plan.js";
import { ReportQueue } from "./report-queue.js";
import { TaskBook } from "./task-book.js";
import { TypedEmitter } from "./typed-emitter.js";

/** Default farewell budgets: a keepalive fetch may carry 64 KiB (all such requests together). */
const DEFAULT_FAREWELL_LIMITS = { firstBytes: 60_000, restBytes: 4 * 1024 * 1024 };

/**
 * The client handler core, shared by `disio worker` and the browser client: joins a distributor
 * (following redirects), holds the Work stream with `slots` of credit, fetches and verifies each
 * program once, hands verified tasks to a `UnitProcessor` (through its {@link TaskBook}), batches
 * results into Report calls, reconnects with backoff, and drains on {@link ClientHandler.stop}.
 *
 * Tasks whose program is missing or fails verification never reach the processor; they are reported
 * as errors of kind "program".
 */
export class ClientHandler {
  private readonly options: ResolvedClientHandlerOptions;
  private readonly now: () => number;
  private readonly programs: ProgramCache;
  private readonly keys: KeyMemory;
  private readonly events = new TypedEmitter<ClientHandlerEvents>();
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

  private readonly tasks: TaskBook;
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
        settled: (settlement) => this.tasks.onReportSettled(settlement),
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
    this.tasks = new TaskBook({
      processor: deps.processor,
      programs: this.programs,
      credit: this.credit,
      reports: this.reports,
      heartbeats: this.heartbeats,
      session: () => this.session,
      suspended: () => this.suspended,
      stopping: () => this.stopSignal.signal.aborted,
      now: this.now,
      emit: (event, payload) => this.emit(event, payload),
      notify: () => this.notify(),
    });
    deps.processor.onResults((results) => this.tasks.onProcessorResults(results));
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
    return { completed: this.tasks.completed, failed: this.tasks.failed, inFlight: this.tasks.size };
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof ClientHandlerEvents>(event: K, listener: (event: ClientHandlerEvents[K]) => void): () => void {
    return this.events.on(event, listener);
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
   * others at once, no attempt used) and the finished results not yet acknowledged (those on the wire
   * too: an unloading page's calls are cancelled, and a result reported twice is stored once). The Work stream ends
   * once that farewell settled (so the results are stored before the stream's end requeues what it
   * held). State `paused` until {@link ClientHandler.resume}; resolves when the farewell settled.
   */
  suspend(send: FarewellSend, limits: Partial<Omit<FarewellLimits, "maxEntries">> = {}): Promise<void> {
    if (this.lifecycle !== "running" && this.lifecycle !== "connecting") return Promise.resolve();
    this.suspended = true;
    this.setState("paused");
    const session = this.session;
    const { owed, onTheWire, returned } = this.tasks.settleForFarewell(session);
    const requests = farewellReports(
      [...owed, ...onTheWire].map((entry) => entry.result),
      returned,
      { ...DEFAULT_FAREWELL_LIMITS, ...limits, maxEntries: this.options.reportBatch },
    );
    const sent = session === undefined || requests.length === 0 ? Promise.resolve() : send({ url: session.url, headers: session.headers }, requests);
    return sent
      .then(
        () => {
          this.tasks.farewellDelivered(owed);
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
    await this.waitUntil(() => this.tasks.idle, deadline);
    this.reports.drain();
    await this.waitUntil(() => this.reports.idle, Math.max(deadline, this.now() + 2_000));
    this.reports.close();
    await this.deps.processor.stop();
    if (this.loopDone !== undefined && this.lifecycle !== "failed") await this.loopDone;
    await this.heartbeatDone;
    this.tasks.clear();
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
          if (response.cancelledCopyIds.length > 0) this.tasks.cancel(session, response.cancelledCopyIds);
          if (response.tasks.length > 0) this.tasks.accept(session, response.tasks);
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

  // ---- liveness --------------------------------------------------------------------------------

  /** Reopens the stream when the distributor keeps counting more tasks in our hands than we hold. */
  private checkInHand(session: Session, counted: number, stream: AbortController): void {
    const check = this.tasks.checkInHand(session, counted, this.inHandStrikes);
    this.inHandStrikes = check.strikes;
    if (!check.reopen) return;
    this.emit("streamResynced", { counted, holding: check.holding });
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
    this.events.emit(event, payload);
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
