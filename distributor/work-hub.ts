import type { Logger } from "pino";
import type { TaskResult } from "../gen/disio/v1/common_pb.js";
import { clientSilent } from "../core/client-silence.js";
import { clientHeartbeatMs } from "../core/heartbeat-interval.js";
import { errorBackoff } from "../core/error-backoff.js";
import { MAX_OUTPUT_BYTES } from "../core/output-limit.js";
import { workCredit } from "../core/work-credit.js";
import { BadClientRequestError, TaskNotGivenError } from "./errors.js";
import { storedResultFromClient } from "./result-mapper.js";
import { HeartbeatLedger, type EndedSession, type GivenCopyRecord } from "./heartbeat-ledger.js";
import { newSession, type Session, type Stream } from "./client-session.js";
import { ANONYMOUS, identityTags, type ClientIdentity } from "./client-identity.js";
import { UnitHolders } from "./unit-holders.js";
import type { ExtraCopies, ExtraCopy } from "./extra-copies.js";
import { Signal } from "./signal.js";
import type { DistributorStore, GivenCopy, StoreResultsOutcome } from "./store/store.js";

/** Settings of a {@link WorkHub}. */
export interface WorkHubSettings {
  /** Client lease of each task given, ms. */
  taskLeaseMs: number;
  /** Most tasks per stream message. */
  workBatch: number;
  /** Most task bytes per stream message (one task always goes). */
  workBatchBytes: number;
  /** Keep-alive period of an idle stream, ms. */
  keepAliveMs: number;
  /** Most results (and returned copies) per client Report. */
  maxReportResults: number;
  /**
   * How often a client must be heard from, ms (told at Join, longer with many clients: see
   * `clientHeartbeatMs`). A stream whose client was silent for three intervals is ended, its tasks
   * requeued.
   */
  heartbeatMs: number;
  /**
   * A client is not given a copy of a unit it (or its host) already had while others could compute
   * it: two copies from one volunteer prove nothing. Such a refused copy goes to that client anyway
   * once it has waited this long with no other volunteer connected (so a grid with one client still
   * finishes, the manager marking the agreement as self-agreement), or 12 times as long when others
   * are connected but none takes it (e.g. every one of them had a copy too). Default 5,000 ms.
   */
  selfCopyDelayMs?: number;
  /**
   * How long the copies of a client whose connection closed under its Work stream wait before they
   * are requeued, ms. A leaving browser page sends its farewell Report (results and hand-back) with
   * `fetch` keepalive in the same instant its stream's connection dies, and the farewell, which
   * needs a CORS preflight first, arrives second: waiting lets it store the page's finished results
   * and requeue its unfinished copies itself, so no finished copy is re-issued to be computed again.
   * A stream replaced by the client's next one ends that wait at once. Default 2,000 ms.
   */
  farewellGraceMs?: number;
  /**
   * How long a client may be without a Work stream and still continue its session by opening one
   * (a browser tab shown again, a reconnect), ms. Once that long passed without one, its session
   * ends and its stay (Join to its last stream's end) goes to the manager's lifespan statistics:
   * one stay per visit, however often the visitor hid the tab. Default 60,000 ms.
   */
  sessionGapMs?: number;
}

/** {@link WorkHubSettings.selfCopyDelayMs} by default. */
const DEFAULT_SELF_COPY_DELAY_MS = 5_000;
/** {@link WorkHubSettings.sessionGapMs} by default. */
const DEFAULT_SESSION_GAP_MS = 60_000;
/** {@link WorkHubSettings.farewellGraceMs} by default. */
const DEFAULT_FAREWELL_GRACE_MS = 2_000;
/** How much longer a refused copy waits when other volunteers are connected. */
const SELF_COPY_CROWD_FACTOR = 12;

/** Counters the hub bumps (metrics). */
export interface WorkHubEvents {
  /** Tasks handed to clients. */
  tasksGiven(count: number): void;
  /** Results stored (accepted) and duplicates seen in one Report. */
  resultsReceived(outcome: StoreResultsOutcome): void;
  /** Extra copies handed to clients while the managers were unreachable (counted in `tasksGiven` too). */
  extraCopiesGiven?(count: number): void;
}

/** What the hub needs. */
export interface WorkHubDeps {
  store: DistributorStore;
  settings: WorkHubSettings;
  log: Logger;
  events?: WorkHubEvents;
  now?: () => number;
  /**
   * Held units re-served as extra copies once no fresh copy is left while `managerReachable` says
   * no (see extra-copies.ts). Absent: no extras.
   */
  extraCopies?: ExtraCopies;
  /** Whether a manager answers now. Default: always. */
  managerReachable?: () => boolean;
}

/** One message of a Work stream: tasks, a keep-alive (no tasks), a cancel, or the final pause. */
export interface WorkBatch {
  tasks: GivenCopy[];
  pause: boolean;
  /** On keep-alives: the tasks this stream counts in its client's hands. */
  inHand?: number;
  /** Copies in the client's hands that were dropped (their units cancelled): stop them, do not report. */
  cancelled?: string[];
}

/** What a client Report did. */
export interface ReportOutcome extends StoreResultsOutcome {
  /** Reported copies never given to this client: not stored. */
  refusedCopyIds: string[];
  /** Returned copies put back to ready for other clients. */
  requeued: number;
}

/** No extra copies in a Report (the common case). */
const NO_EXTRAS: ReadonlyMap<string, ExtraCopy> = new Map();
/** Longest wait for a client's previous stream to end when it opens a new one, ms. */
const REPLACE_WAIT_MS = 1_000;
/** A joined client that never opened a stream is forgotten after this long, ms. */
const IDLE_SESSION_MS = 10 * 60_000;
/** An OK result this recent from another client shows the work can be done (see errorBackoff), ms. */
const RECENT_OK_MS = 60_000;
/** While the managers are unreachable, how often a stream with credit and nothing to do looks for extra copies, ms. */
const EXTRA_RETRY_MS = 1_000;
/** Streams woken at once when copies became ready (see `notifyReady`). */
const READY_WAKE_BATCH = 64;

/**
 * Hands held copies to clients and takes their results: one Work stream per client with `slots`
 * credit, batches per stream message (one store transaction each), client leases, requeue when a
 * client goes, and the check that a client reports only what it was given.
 */
export class WorkHub {
  /** Notified after results were stored, here or by another process over the store (the report loop waits on it). */
  readonly resultsStored = new Signal();
  readonly #store: DistributorStore;
  readonly #settings: WorkHubSettings;
  readonly #log: Logger;
  readonly #events: WorkHubEvents | undefined;
  readonly #now: () => number;
  readonly #sessions = new Map<string, Session>();
  readonly #streams = new Set<Stream>();
  /** Streams whose client went away, waiting out the farewell grace (woken to end it) before their cleanup. */
  readonly #leaving = new Map<Stream, Signal>();
  /**
   * copy id → the stream that last handed it out, while it counts there. A result frees the copy on
   * that stream too, whoever reports it: after a restart or a rejoin a client may report under an
   * old session a copy its new session was handed again, and that credit must not leak.
   */
  readonly #holders = new Map<string, Stream>();
  /** The two clients with the latest OK results, most recent first, for `errorBackoff`. */
  #okLeaders: Array<{ clientId: string; atMs: number }> = [];
  readonly #ledger = new HeartbeatLedger();
  readonly #unitHolders = new UnitHolders();
  readonly #extras: ExtraCopies | undefined;
  readonly #managerReachable: () => boolean;
  /** Whether a manager answered at the last sweep (an outage's start wakes streams for extra copies). */
  #reachable = true;
  #paused: ReadonlySet<string> = new Set();
  #closing = false;
  /** Streams with free credit, looking for copies (see `notifyReady`). */
  readonly #hungry = new Set<Stream>();
  /**
   * Streams whose last look found only copies they may not have yet (see `skipCopy`): woken by new
   * copies (`notifyReady`) and their retry time, never by another stream passing a wake-up on.
   */
  readonly #refusedOnly = new Set<Stream>();
  #readyWakeScheduled = false;
  readonly #unlisten: () => void;

  constructor(deps: WorkHubDeps) {
    this.#store = deps.store;
    this.#settings = deps.settings;
    this.#log = deps.log.child({ component: "work-hub" });
    this.#events = deps.events;
    this.#now = deps.now ?? Date.now;
    this.#extras = deps.extraCopies?.enabled === true ? deps.extraCopies : undefined;
    this.#managerReachable = deps.managerReachable ?? (() => true);
    // Through the store, so that copies leased or requeued and results stored by another process
    // over a shared store wake this one's streams and report loop too.
    this.#unlisten = deps.store.onChange((change) => {
      if (change.kind === "ready") this.notifyReady();
      else if (change.kind === "results") this.resultsStored.notify();
      else this.#cancel(change.copyIds);
    });
  }

  /** Projects whose copies are not handed out. */
  get pausedProjects(): ReadonlySet<string> {
    return this.#paused;
  }

  /** Replaces the paused projects (from a heartbeat); wakes streams when some were resumed. */
  setPausedProjects(projectIds: Iterable<string>): void {
    const next = new Set(projectIds);
    const resumed = [...this.#paused].some((id) => !next.has(id));
    this.#paused = next;
    if (resumed) this.notifyReady();
  }

  /** Clients with an open Work stream. */
  get connectedClients(): number {
    return this.#streams.size;
  }

  /**
   * Copies became ready: wakes the streams with free credit that look for copies, once per turn of
   * the event loop however many changes came in it (a sweep requeueing many clients' tasks, a pool
   * member's burst of requeues). Only the {@link READY_WAKE_BATCH} that waited longest wake; each of
   * them that finds copies wakes the next (see `#serve`), so a change costs what it hands out, not
   * one look per idle client: with 10,000 idle clients, each lease batch or requeue woke all of
   * them, most to find nothing. Streams without free credit wake when a result frees a slot.
   */
  notifyReady(): void {
    if (this.#readyWakeScheduled) return;
    this.#readyWakeScheduled = true;
    setImmediate(() => {
      this.#readyWakeScheduled = false;
      for (const stream of this.#refusedOnly) {
        stream.readyPending = true;
        stream.wake.notify();
      }
      this.#refusedOnly.clear();
      this.#wakeHungry(READY_WAKE_BATCH);
    });
  }

  /** Wakes the `count` streams that have looked for copies longest (they rejoin the queue if they still find none). */
  #wakeHungry(count: number): void {
    for (const stream of this.#hungry) {
      if (count-- <= 0) return;
      this.#hungry.delete(stream);
      stream.readyPending = true;
      stream.wake.notify();
    }
  }

  /**
   * Records a joined client with its identity (its hashed stable key and host, see
   * client-identity.ts), which its results carry to the manager. Default: anonymous. Returns the
   * heartbeat interval to tell it, ms.
   */
  joined(clientId: string, platform: string, identity: ClientIdentity = ANONYMOUS): number {
    const now = this.#now();
    const heartbeatMs = this.#heartbeatMs();
    this.#sessions.set(clientId, newSession(clientId, platform, now, heartbeatMs, identity, identityTags(clientId, identity)));
    return heartbeatMs;
  }

  /** The heartbeat interval for a client joining now (see `clientHeartbeatMs`). */
  #heartbeatMs(): number {
    return clientHeartbeatMs(this.#settings.heartbeatMs, this.#sessions.size + 1);
  }

  /**
   * The Work stream of a client: batches of at most its free credit as soon as there are copies,
   * keep-alives when idle, a final `pause` when the distributor closes. A second stream of the same
   * client (a reopen after a broken stream) replaces the first. When a stream ends (client gone,
   * replaced, `abort`), the copies it handed out and that are still unreported are requeued for others.
   */
  async *work(clientId: string, slots: number, abort: AbortSignal): AsyncGenerator<WorkBatch> {
    const session = this.#session(clientId);
    const previous = session.stream;
    let finish!: () => void;
    const stream: Stream = {
      slots,
      outstanding: new Set(),
      lastGiveMs: 0,
      holdUntilMs: undefined,
      retryAtMs: undefined,
      cancelled: [],
      readyPending: false,
      wake: new Signal(),
      abort: new AbortController(),
      done: new Promise((r) => (finish = r)),
    };
    session.lastHeardMs = this.#now();
    session.leftAtMs = undefined;
    // Claimed before waiting for the previous stream, so that its cleanup sees it was replaced: it
    // must neither end the session (reports would stop freeing this stream's credit) nor requeue
    // copies this stream hands out.
    session.stream = stream;
    this.#streams.add(stream);
    const onAbort = () => stream.abort.abort();
    abort.addEventListener("abort", onAbort, { once: true });
    if (abort.aborted) onAbort();
    this.#log.debug({ clientId, slots, replacing: previous !== undefined }, "work stream opened");
    try {
      if (previous !== undefined) await this.#replace(previous);
      yield* this.#serve(session, stream);
    } finally {
      abort.removeEventListener("abort", onAbort);
      this.#streams.delete(stream);
      this.#hungry.delete(stream);
      this.#refusedOnly.delete(stream);
      if (abort.aborted && !this.#closing && session.stream === stream && stream.outstanding.size > 0) await this.#farewellGrace(stream);
      await this.#streamEnded(session, stream);
      finish();
    }
  }

  /**
   * Waits {@link WorkHubSettings.farewellGraceMs} after the client's connection closed, so that a
   * farewell Report in flight settles the stream's copies first; cut short once no copy is left,
   * when the client opens its next stream, or when the hub closes.
   */
  async #farewellGrace(stream: Stream): Promise<void> {
    const cut = new Signal();
    this.#leaving.set(stream, cut);
    await cut.wait(this.#settings.farewellGraceMs ?? DEFAULT_FAREWELL_GRACE_MS);
    this.#leaving.delete(stream);
  }

  /** Ends a client's previous stream and waits (briefly) until its cleanup ran. */
  async #replace(previous: Stream): Promise<void> {
    previous.abort.abort();
    this.#leaving.get(previous)?.notify();
    // A stream stuck in a write to a vanished client must not hold its successor up for long.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([previous.done, new Promise((r) => (timer = setTimeout(r, REPLACE_WAIT_MS)))]);
    clearTimeout(timer);
  }

  /** The batches of one stream, until it is aborted or the hub closes. */
  async *#serve(session: Session, stream: Stream): AsyncGenerator<WorkBatch> {
    const signal = stream.abort.signal;
    let lastSentMs = this.#now();
    while (!signal.aborted) {
      if (this.#closing) {
        yield { tasks: [], pause: true };
        return;
      }
      if (stream.cancelled.length > 0) {
        yield { tasks: [], pause: false, cancelled: stream.cancelled.splice(0) };
        lastSentMs = this.#now();
        continue;
      }
      const now = this.#now();
      const allowance = this.#allowance(session, stream, now);
      const credit = workCredit({ slots: allowance.slots, outstanding: stream.outstanding.size }, this.#settings.workBatch);
      stream.readyPending = false;
      this.#refusedOnly.delete(stream);
      if (credit > 0 && now >= allowance.notBeforeMs) this.#hungry.add(stream);
      else this.#hungry.delete(stream);
      if (credit > 0 && now >= allowance.notBeforeMs) {
        const selfDelayMs = this.#selfCopyDelayMs(session);
        let refused = false;
        const batchUnits = new Map<string, string>();
        let given = await this.#store.takeReady({
          clientId: session.clientId,
          max: credit,
          nowMs: now,
          clientDeadlineMs: now + this.#settings.taskLeaseMs,
          skipProjects: this.#paused,
          maxBytes: this.#settings.workBatchBytes,
          skipCopy: ({ copyId, unitId, refusedSinceMs }) => {
            const sibling = batchUnits.get(unitId);
            const held = (sibling !== undefined && sibling !== copyId) || this.#unitHolders.holds(unitId, copyId, session.tags, now);
            const skip = held && now - refusedSinceMs < selfDelayMs;
            if (skip) refused = true;
            else batchUnits.set(unitId, copyId);
            return skip;
          },
        });
        // Refused copies become this client's once they waited long enough: look again by then.
        stream.retryAtMs = refused ? now + Math.min(selfDelayMs, this.#settings.keepAliveMs) : undefined;
        const extra = given.length === 0 && this.#extras !== undefined && !this.#managerReachable();
        if (extra) {
          given = this.#extras!.take(session.clientId, session.tags, credit, now + this.#settings.taskLeaseMs, this.#paused);
          // Held units get re-servable as other clients are given copies: look again soon.
          if (given.length === 0) stream.retryAtMs = Math.min(stream.retryAtMs ?? Infinity, now + Math.min(EXTRA_RETRY_MS, this.#settings.keepAliveMs));
          else this.#events?.extraCopiesGiven?.(given.length);
        } else if (given.length > 0) this.#extras?.remember(given, session.tags);
        // There may be more (or copies this client may not have, for others): the next waiting stream
        // looks. This one queues again behind it when it loops, if it got copies. One that got only
        // refusals waits for new copies or its retry time, out of the queue: two such streams (two
        // workers on one host) would otherwise wake each other without end and starve the event loop.
        if (given.length > 0 || refused) {
          this.#hungry.delete(stream);
          this.#wakeHungry(1);
          if (given.length === 0) this.#refusedOnly.add(stream);
        }
        if (given.length > 0) {
          for (const copy of given) this.#unitHolders.note(copy.unitId, copy.copyId, session.tags, now);
          const copyIds = given.map((copy) => copy.copyId);
          for (const copyId of copyIds) {
            stream.outstanding.add(copyId);
            this.#holders.set(copyId, stream);
          }
          stream.lastGiveMs = now;
          stream.holdUntilMs = undefined;
          // Extra copies' ids are the distributor's own: the manager learns of them with their results.
          if (!extra) this.#ledger.noteGiven(session.clientId, copyIds, stream.outstanding);
          session.lastSeenMs = now;
          this.#events?.tasksGiven(given.length);
          yield { tasks: given, pause: false };
          lastSentMs = this.#now();
          continue;
        }
      }
      const keepAliveInMs = this.#settings.keepAliveMs - (now - lastSentMs);
      if (keepAliveInMs <= 0) {
        yield { tasks: [], pause: false, inHand: stream.outstanding.size };
        lastSentMs = this.#now();
        continue;
      }
      // Copies that became ready while this stream was asking the store: look again rather than sleep.
      if (stream.readyPending) continue;
      // Only a client held back waits for its time; one that found no copies waits for a wake-up
      // (before, it looked again every millisecond: thousands of idle clients kept a core busy).
      const heldBackMs = credit > 0 && now < allowance.notBeforeMs ? allowance.notBeforeMs - now : Infinity;
      const retryInMs = credit > 0 && stream.retryAtMs !== undefined ? stream.retryAtMs - now : Infinity;
      await stream.wake.wait(Math.max(Math.min(keepAliveInMs, heldBackMs, retryInMs), 1), signal);
    }
  }

  /**
   * Cleanup of an ended stream. If it was the client's current one, the client is now without a
   * stream: its session ends unless it opens another within `sessionGapMs` (see `sweep`). Requeued
   * are only the copies this stream handed out and that are unreported (reported ones left the
   * store; the store skips copies no longer given to the client), minus any the client's current
   * stream handed out again: those are in the successor's accounting. A replaced stream's
   * copies are requeued too, though the client may still be running them (late results are
   * welcome): some may have been lost with the broken stream, and carrying them over would leak the
   * successor's credit for good.
   */
  async #streamEnded(session: Session, stream: Stream): Promise<void> {
    if (session.stream === stream) {
      session.stream = undefined;
      session.leftAtMs = this.#now();
    }
    const successor = session.stream;
    for (const copyId of stream.outstanding) if (this.#holders.get(copyId) === stream) this.#holders.delete(copyId);
    const copyIds = [...stream.outstanding].filter((id) => successor?.outstanding.has(id) !== true);
    try {
      const requeued = await this.#requeue(session.clientId, copyIds);
      this.#log.debug({ clientId: session.clientId, requeued, replaced: successor !== undefined }, "work stream ended");
    } catch (error) {
      this.#log.error({ err: error, clientId: session.clientId }, "requeue of a gone client failed");
    }
  }

  /**
   * Takes a client's Report: stores the results of copies given to it (others are refused: listed
   * in the outcome, not stored; when none was given the call fails with `TaskNotGivenError`), puts
   * the copies it returns unstarted back to ready for other clients, and notes the client is alive
   * (an empty Report is its heartbeat). No output may exceed {@link MAX_OUTPUT_BYTES} (else
   * `BadClientRequestError`: honest clients report such a run as an error). Resolves once the
   * results are durable; each stored or returned copy frees a slot of the stream that holds it.
   */
  async report(clientId: string, results: readonly TaskResult[], returnedCopyIds: readonly string[] = []): Promise<ReportOutcome> {
    const max = this.#settings.maxReportResults;
    if (results.length + returnedCopyIds.length > max) {
      throw new BadClientRequestError("results", `at most ${max} results and returned copies per report, got ${results.length + returnedCopyIds.length}`);
    }
    results.forEach((result, i) => {
      if (result.copyId === "") throw new BadClientRequestError(`results[${i}].copy_id`, "required");
      if (result.outcome.case === undefined) throw new BadClientRequestError(`results[${i}].outcome`, "output or error required");
      if (result.outcome.case === "output" && result.outcome.value.byteLength > MAX_OUTPUT_BYTES) {
        throw new BadClientRequestError(`results[${i}].output`, `${result.outcome.value.byteLength} bytes, more than ${MAX_OUTPUT_BYTES}`);
      }
    });
    returnedCopyIds.forEach((copyId, i) => {
      if (copyId === "") throw new BadClientRequestError(`returned_copy_ids[${i}]`, "must not be empty");
    });
    const session = this.#sessions.get(clientId);
    const now = this.#now();
    if (session !== undefined) session.lastHeardMs = now;
    const outcome: ReportOutcome = { accepted: 0, duplicates: 0, refusedCopyIds: [], requeued: 0 };
    if (results.length > 0) {
      const extras = this.#extras?.inHands(clientId, results.map((r) => r.copyId)) ?? NO_EXTRAS;
      const leased = extras.size === 0 ? results : results.filter((r) => !extras.has(r.copyId));
      const given = leased.length === 0 ? new Map<string, string>() : await this.#store.wasGiven(clientId, leased.map((r) => r.copyId));
      if (given.size + extras.size === 0) throw new TaskNotGivenError(results.map((r) => r.copyId));
      const kept = given.size + extras.size === results.length ? results : results.filter((r) => given.has(r.copyId) || extras.has(r.copyId));
      outcome.refusedCopyIds = results.filter((r) => !given.has(r.copyId) && !extras.has(r.copyId)).map((r) => r.copyId);
      const identity = session?.identity ?? ANONYMOUS;
      const stored = await this.#store.storeResults(
        kept.map((r) => {
          const extra = extras.get(r.copyId);
          return storedResultFromClient(r, clientId, extra?.unitId ?? (given.get(r.copyId) as string), now, identity, extra?.originCopyId);
        }),
      );
      if (this.#extras !== undefined) {
        this.#extras.release(extras.keys());
        this.#extras.leftHands([...given.keys()]);
      }
      outcome.accepted = stored.accepted;
      outcome.duplicates = stored.duplicates;
      this.#events?.resultsReceived(stored);
      if (session !== undefined) {
        session.lastSeenMs = now;
        session.results += stored.accepted;
        for (const result of kept) {
          if (result.outcome.case === "output") session.errorStreak = 0;
          else session.errorStreak++;
        }
      }
      if (kept.some((result) => result.outcome.case === "output")) this.#noteOk(clientId, now);
      this.#free(session?.stream, kept.map((r) => r.copyId), true);
    }
    if (returnedCopyIds.length > 0) {
      outcome.requeued = await this.#requeue(clientId, returnedCopyIds);
      this.#log.debug({ clientId, results: results.length, returned: returnedCopyIds.length, requeued: outcome.requeued }, "copies handed back");
      this.#free(session?.stream, returnedCopyIds, false);
    }
    // A gone client's farewell settled every copy of its stream: nothing left to wait for.
    const stream = session?.stream;
    if (stream !== undefined && stream.outstanding.size === 0) this.#leaving.get(stream)?.notify();
    return outcome;
  }

  /** Puts a client's unreported copies back to ready (extra copies among them just leave its hands). */
  async #requeue(clientId: string, copyIds: readonly string[]): Promise<number> {
    if (this.#extras !== undefined) {
      this.#extras.release(copyIds);
      this.#extras.leftHands(copyIds);
    }
    return this.#store.requeueClient(clientId, copyIds);
  }

  /** The manager acknowledged these results: their units are no longer re-served as extra copies. */
  acknowledged(copyIds: readonly string[]): void {
    this.#extras?.forget(copyIds);
  }

  /**
   * Takes dropped copies (cancelled units) out of the hands of the streams that hold them here, with
   * the extra copies made of their units: they free their slots, and each stream tells its client in
   * its next message. Copies held through another process of a pool are that process's to cancel.
   */
  #cancel(dropped: readonly string[]): void {
    const copyIds = this.#extras === undefined ? dropped : [...dropped, ...this.#extras.drop(dropped)];
    for (const copyId of copyIds) {
      const holder = this.#holders.get(copyId);
      if (holder === undefined) continue;
      this.#holders.delete(copyId);
      holder.outstanding.delete(copyId);
      holder.cancelled.push(copyId);
      holder.wake.notify();
    }
  }

  /**
   * Frees reported or returned copies on the client's own stream and, for results
   * (`andHolders`), on whichever stream last handed them out; wakes the streams that got credit.
   */
  #free(own: Stream | undefined, copyIds: readonly string[], andHolders: boolean): void {
    let ownFreed = false;
    for (const copyId of copyIds) {
      if (own?.outstanding.delete(copyId) === true) ownFreed = true;
      const holder = this.#holders.get(copyId);
      if (holder === undefined || (holder !== own && !andHolders)) continue;
      this.#holders.delete(copyId);
      if (holder !== own && holder.outstanding.delete(copyId)) holder.wake.notify();
    }
    if (ownFreed) own?.wake.notify();
  }

  /**
   * The credit a stream may use now and the earliest time for its next task: its slots, unless its
   * client is held back for returning only errors while others succeed (see `errorBackoff`).
   */
  #allowance(session: Session, stream: Stream, now: number): { slots: number; notBeforeMs: number } {
    const backoff = errorBackoff({ errorStreak: session.errorStreak, othersSucceeding: this.#othersSucceeding(session, now) });
    if (backoff === undefined) return { slots: stream.slots, notBeforeMs: 0 };
    if (stream.holdUntilMs === undefined) {
      stream.holdUntilMs = stream.lastGiveMs + backoff.delayMs;
      this.#log.debug({ clientId: session.clientId, errorStreak: session.errorStreak, delayMs: backoff.delayMs }, "client held back for its errors");
    }
    return { slots: Math.min(stream.slots, backoff.credit), notBeforeMs: stream.holdUntilMs };
  }

  /**
   * How long a copy refused to this client must wait before it gets it anyway (see
   * {@link WorkHubSettings.selfCopyDelayMs}): longer while another volunteer has a Work stream open.
   */
  #selfCopyDelayMs(session: Session): number {
    const delay = this.#settings.selfCopyDelayMs ?? DEFAULT_SELF_COPY_DELAY_MS;
    for (const other of this.#sessions.values()) {
      if (other.stream !== undefined && !other.tags.some((tag) => session.tags.includes(tag))) return delay * SELF_COPY_CROWD_FACTOR;
    }
    return delay;
  }

  #othersSucceeding(session: Session, now: number): boolean {
    const other = this.#okLeaders.find((leader) => leader.clientId !== session.clientId);
    return other !== undefined && now - other.atMs <= RECENT_OK_MS;
  }

  /** Keeps the two clients with the latest OK results (enough to tell whether someone else succeeds). */
  #noteOk(clientId: string, now: number): void {
    this.#okLeaders = [{ clientId, atMs: now }, ...this.#okLeaders.filter((leader) => leader.clientId !== clientId)].slice(0, 2);
  }


  /** Sets the credit of a client's open Work stream (a Report's `slots`); more credit sends more tasks at once. */
  setCredit(clientId: string, slots: number): void {
    const stream = this.#sessions.get(clientId)?.stream;
    if (stream === undefined || stream.slots === slots) return;
    stream.slots = slots;
    stream.wake.notify();
  }

  /**
   * Requeues copies whose client lease ended; ends the streams of clients silent too long (frozen
   * or gone with the connection left open: see `clientSilent`), which stop counting as connected at
   * once, and requeues their tasks; ends the sessions of clients without a stream for `sessionGapMs`
   * (their stays go to the next heartbeat); forgets joined clients that never opened a stream;
   * wakes the streams waiting for copies when the managers just became unreachable (extra copies).
   */
  async sweep(): Promise<number> {
    const now = this.#now();
    const reachable = this.#managerReachable();
    // An outage began: streams idle for want of fresh copies may take extra ones now.
    if (this.#extras !== undefined && this.#reachable && !reachable) this.notifyReady();
    this.#reachable = reachable;
    let requeued = await this.#store.requeueExpiredClientLeases(now);
    if (requeued > 0) this.#log.info({ requeued }, "client leases expired, tasks requeued");
    const gapMs = this.#settings.sessionGapMs ?? DEFAULT_SESSION_GAP_MS;
    for (const session of this.#sessions.values()) {
      const stream = session.stream;
      if (stream === undefined) {
        if (session.leftAtMs !== undefined && now - session.leftAtMs >= gapMs) this.#endSession(session);
        else if (session.leftAtMs === undefined && now - session.lastSeenMs > IDLE_SESSION_MS) this.#sessions.delete(session.clientId);
        continue;
      }
      if (stream.abort.signal.aborted || !clientSilent({ lastHeardMs: session.lastHeardMs }, now, session.heartbeatMs)) continue;
      // Not connected from now on, even while the stream's generator is still stuck in a write.
      this.#streams.delete(stream);
      // Requeued now, not when the stream's generator ends: a write to a frozen client may never return.
      const copyIds = [...stream.outstanding];
      for (const copyId of copyIds) if (this.#holders.get(copyId) === stream) this.#holders.delete(copyId);
      stream.outstanding.clear();
      stream.abort.abort();
      const count = await this.#requeue(session.clientId, copyIds);
      this.#log.warn({ clientId: session.clientId, silentMs: now - session.lastHeardMs, requeued: count }, "client silent, its stream ended");
      requeued += count;
    }
    return requeued;
  }

  /** Copies given since the last call and still in their clients' hands, for the heartbeat (see {@link HeartbeatLedger}). */
  takeGivenCopies(): GivenCopyRecord[] {
    return this.#ledger.takeGivenCopies();
  }

  /** Sessions ended since the last call, for the heartbeat. */
  takeEndedSessions(): EndedSession[] {
    return this.#ledger.takeEndedSessions();
  }

  /** Tells every stream to pause and end; resolves when they all ended (or after `graceMs`). */
  async close(graceMs: number): Promise<void> {
    this.#closing = true;
    this.#unlisten();
    const done = [...this.#streams, ...this.#leaving.keys()].map((s) => s.done);
    for (const stream of this.#streams) stream.wake.notify();
    for (const cut of this.#leaving.values()) cut.notify();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(done), new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    for (const stream of this.#streams) stream.abort.abort();
  }

  #session(clientId: string): Session {
    let session = this.#sessions.get(clientId);
    if (session === undefined) {
      // A client that joined before a restart comes back with its still-valid token.
      const now = this.#now();
      session = newSession(clientId, "unknown", now, this.#heartbeatMs(), ANONYMOUS, identityTags(clientId, ANONYMOUS));
      this.#sessions.set(clientId, session);
    }
    return session;
  }

  /** Forgets a session whose client left, recording its stay (Join to its last stream's end). */
  #endSession(session: Session): void {
    this.#sessions.delete(session.clientId);
    this.#ledger.noteEnded({
      clientId: session.clientId,
      platform: session.platform,
      joinedAtMs: session.joinedAtMs,
      lastSeenMs: session.leftAtMs ?? this.#now(),
      results: session.results,
    });
  }
}
