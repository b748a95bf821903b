import { setTimeout as sleep } from "node:timers/promises";
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import { backoffDelayMs, type BackoffPolicy } from "../core/backoff.js";
import { AddUnitsRequestSchema, type AddUnitsRequest, type AdminService, type Project, type Result, type Unit } from "../gen/disio/v1/admin_service_pb.js";
import { Encoding, ProjectState, UnitState } from "../gen/disio/v1/common_pb.js";
import { callWithRetries, isRetryable } from "./call-with-retries.js";
import { encodeAddUnitsRequest } from "./add-units-request-encoder.js";
import { inputBatches } from "./input-batches.js";
import type { ResultPagesClient } from "./result-pages-client.js";

/** Waits between reconnects of a stream, and between tries of a batch: 0.25 s doubling to 5 s. */
export const RECONNECT_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 5_000, multiplier: 2, jitter: 0.3 };

/** One finished unit as {@link Job.results} yields it. */
export interface JobResult<I = unknown, O = unknown> {
  /** The unit's id. */
  unit: string;
  /** The input: parsed JSON, or bytes for a bytes project. */
  input: I;
  /** The agreed output: parsed JSON, or bytes for a bytes project. */
  output: O;
  /** When the unit was done. */
  finishTime: Date | undefined;
  /** Copies sent for the unit. */
  copies: number;
  /** Pass it as `cursor` to continue after this result. */
  cursor: string;
}

/** A unit with a known answer ({@link Job.addCanaries}): JSON values, or Uint8Arrays for a bytes project. */
export interface Canary {
  /** The input, as an ordinary unit's. */
  input: unknown;
  /** The right output: a result is judged by its output hash against this one's. */
  expected: unknown;
}

/** Options of {@link Job.add}. */
export interface AddOptions {
  /** Inputs per AddUnits call. Default 10,000. */
  batchSize?: number;
  /** Most input bytes per call. Default 8 MiB. */
  maxBatchBytes?: number;
  /** Tries after the first of a failed batch (only errors a retry can fix). Default 5. */
  retries?: number;
  /**
   * The request id of a batch, for idempotent retries and resumable adds (same id: stored once).
   * Default: a random id per call of `add` and the batch's position, so a retried batch is stored
   * once but calling `add` again adds the inputs again.
   */
  requestId?: (batch: { inputs: Uint8Array[]; firstIndex: number }) => string;
  /** Told after each stored batch: its unit ids and the index of its first input. */
  onBatch?: (batch: { unitIds: string[]; firstIndex: number; alreadyStored: boolean }) => void;
  /** Told before each retry. */
  onRetry?: (error: unknown, retry: number) => void;
}

/** What {@link Job.add} stored. */
export interface AddSummary {
  /** Units added by this call. */
  added: number;
  /** Units a request id showed were stored before (by an earlier run). */
  alreadyStored: number;
}

/** Options of {@link Job.resultPages} and {@link Job.results}. */
export interface ResultsOptions {
  /** Start after this cursor. Default: the beginning. */
  cursor?: string;
  /** Keep streaming as units finish, until every unit is final (default true); false: what is there now. */
  follow?: boolean;
  /** Stops the stream. */
  signal?: AbortSignal;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A project seen from its owner's code: add inputs, stream results, wait until done. Made by
 * `Grid.createProject` or `Grid.job`. Every stream resumes by itself after the manager restarts or
 * the connection drops, from the last cursor it delivered: no result is missed or repeated.
 */
export class Job {
  readonly #admin: Client<typeof AdminService>;
  readonly #resultPages: ResultPagesClient;
  readonly #explain: (error: unknown) => unknown;
  #project: Project;

  /** @internal Use `Grid.createProject` or `Grid.job`. */
  constructor(
    clients: { admin: Client<typeof AdminService>; resultPages: ResultPagesClient },
    project: Project,
    explain: (error: unknown) => unknown = (e) => e,
  ) {
    this.#admin = clients.admin;
    this.#resultPages = clients.resultPages;
    this.#project = project;
    this.#explain = explain;
  }

  /** The project's id. */
  get id(): string {
    return this.#project.id;
  }

  /** The project's name. */
  get name(): string {
    return this.#project.name;
  }

  /** The project as last read (see {@link refresh}). */
  get project(): Project {
    return this.#project;
  }

  /** Reads the project again (state, counts) and returns it. */
  async refresh(): Promise<Project> {
    this.#project = (await this.#call(() => this.#admin.getProject({ id: this.id }))).project!;
    return this.#project;
  }

  /**
   * Adds one unit per input, from an array, a generator or an async generator of any length, in
   * batches (AddUnits calls) sent one at a time: the next inputs are pulled only once the previous
   * batch is stored, so memory stays bounded whatever the input count. JSON projects take JSON
   * values; bytes projects take `Uint8Array`s. A batch failing for a reason a retry can fix is
   * retried with backoff under the same request id (stored once).
   */
  async add(inputs: Iterable<unknown> | AsyncIterable<unknown>, options: AddOptions = {}): Promise<AddSummary> {
    const callId = randomUUID();
    const requestId = options.requestId ?? ((batch) => `add-${callId}-${batch.firstIndex}`);
    const encode = this.#encoder(this.#project.inputEncoding, "input");
    const summary: AddSummary = { added: 0, alreadyStored: 0 };
    for await (const batch of inputBatches(inputs, encode, { maxCount: options.batchSize ?? 10_000, maxBytes: options.maxBatchBytes ?? 8 * 1024 * 1024 })) {
      const stored = await this.addBatch(batch.inputs, { requestId: requestId(batch), retries: options.retries, onRetry: options.onRetry });
      if (stored.alreadyStored) summary.alreadyStored += stored.unitIds.length;
      else summary.added += stored.unitIds.length;
      options.onBatch?.({ ...stored, firstIndex: batch.firstIndex });
    }
    return summary;
  }

  /**
   * Stores one batch of encoded inputs (UTF-8 JSON text, or bytes) in one AddUnits call, retrying
   * with backoff under `requestId` when a retry can fix the failure. `alreadyStored` is true when
   * the request id showed an earlier run (not this call's lost try) stored the batch.
   */
  async addBatch(
    inputs: Uint8Array[],
    options: { requestId: string; retries?: number; onRetry?: (error: unknown, retry: number) => void },
  ): Promise<{ unitIds: string[]; alreadyStored: boolean }> {
    // Written by hand (the transport is binary): reflection cost as much as reading the file.
    return this.#addUnits(encodeAddUnitsRequest(this.id, options.requestId, inputs), options);
  }

  /**
   * Adds canary units: inputs with their known right output (JSON values, or Uint8Arrays for a
   * bytes project), in one AddUnits call. The project leases them at its `canaryRate` among
   * ordinary copies, where a client cannot tell them apart: a client answering one wrong loses its
   * trust, and the results it got accepted alone go back to full quorum. Canaries never finish and
   * count in no progress, unit list or result. Draw them like the real inputs: a client that
   * recognises a canary could answer it right and lie elsewhere. With a `requestId` the call is
   * safe to repeat (`alreadyStored`: an earlier call stored these canaries).
   */
  async addCanaries(canaries: Iterable<Canary>, options: { requestId?: string; retries?: number } = {}): Promise<{ added: number; alreadyStored: boolean }> {
    const encodeInput = this.#encoder(this.#project.inputEncoding, "canary input");
    const encodeExpected = this.#encoder(this.#project.outputEncoding, "canary expected output");
    const units = [...canaries].map((canary, i) => ({ input: encodeInput(canary.input, i), expectedOutput: encodeExpected(canary.expected, i) }));
    const stored = await this.#addUnits(create(AddUnitsRequestSchema, { projectId: this.id, requestId: options.requestId ?? `canaries-${randomUUID()}`, units }), options);
    return { added: stored.alreadyStored ? 0 : stored.unitIds.length, alreadyStored: stored.alreadyStored };
  }

  /** One AddUnits call, retried with backoff under its request id when a retry can fix the failure. */
  async #addUnits(
    request: AddUnitsRequest,
    options: { retries?: number; onRetry?: (error: unknown, retry: number) => void },
  ): Promise<{ unitIds: string[]; alreadyStored: boolean }> {
    const { value, attempt } = await this.#call(() =>
      callWithRetries(() => this.#admin.addUnits(request), {
        retries: options.retries ?? 5,
        backoff: RECONNECT_BACKOFF,
        sleep: (ms) => sleep(ms),
        onRetry: options.onRetry,
      }),
    );
    // Answered on a retry, "already stored" most likely means our own lost first try stored it.
    return { unitIds: value.unitIds, alreadyStored: value.alreadyStored && attempt === 0 };
  }

  /** Encodes values as `encoding` carries them: UTF-8 JSON text, or a bytes project's Uint8Arrays as they are. */
  #encoder(encoding: Encoding, what: string): (value: unknown, index: number) => Uint8Array {
    if (encoding === Encoding.BYTES) {
      return (value, index) => {
        if (!(value instanceof Uint8Array)) throw new TypeError(`${what} ${index}: a bytes project takes Uint8Arrays`);
        return value;
      };
    }
    return (value, index) => {
      const text = JSON.stringify(value);
      if (text === undefined) throw new TypeError(`${what} ${index}: not a JSON value`);
      return encoder.encode(text);
    };
  }

  /**
   * The project's results as protobuf pages, in finishing order: with `follow` (the default) the
   * backlog then live batches from WatchResults until every unit is final; without, every page
   * ListResults has now. Reconnects after errors a retry can fix, from the last cursor delivered.
   */
  async *resultPages(options: ResultsOptions = {}): AsyncGenerator<{ results: Result[]; cursor: string }> {
    let cursor = options.cursor ?? "";
    const follow = options.follow ?? true;
    // A consumer leaving the loop early must end the HTTP stream too, or it keeps the process alive.
    const stream = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, stream.signal]) : stream.signal;
    try {
      yield* this.#pages(cursor, follow, signal, options.signal);
    } finally {
      stream.abort();
    }
  }

  async *#pages(cursor: string, follow: boolean, signal: AbortSignal, callerSignal: AbortSignal | undefined): AsyncGenerator<{ results: Result[]; cursor: string }> {
    for (let attempt = 0; ; ) {
      try {
        if (!follow) {
          // The next page is asked for before this one is handed over, so the manager reads and
          // encodes it while the caller writes this one. A failed read surfaces at its await.
          const list = (after: string) => this.#resultPages.listResults({ projectId: this.id, cursor: after, pageSize: 10_000 }, { signal });
          let next = list(cursor);
          for (;;) {
            const page = await next;
            if (page.results.length === 0) return;
            cursor = page.cursor;
            attempt = 0;
            next = list(cursor);
            // Left unawaited when the caller stops early (the stream's abort then rejects it).
            next.catch(() => undefined);
            yield { results: page.results, cursor };
          }
        }
        for await (const batch of this.#resultPages.watchResults({ projectId: this.id, cursor, untilDone: true }, { signal })) {
          attempt = 0;
          cursor = batch.cursor || cursor;
          if (batch.results.length > 0) yield { results: batch.results, cursor };
          if (batch.projectDone) return;
        }
        // The stream ended without saying the project is done: the manager is stopping. Resume.
      } catch (error) {
        if (callerSignal?.aborted) return;
        if (!isRetryable(error)) throw this.#explain(error);
      }
      await sleep(backoffDelayMs(attempt++, RECONNECT_BACKOFF), undefined, { signal: callerSignal }).catch(() => undefined);
      if (callerSignal?.aborted) return;
    }
  }

  /** Every result, decoded (see {@link JobResult}); resumes like {@link resultPages}. */
  async *results<I = unknown, O = unknown>(options: ResultsOptions = {}): AsyncGenerator<JobResult<I, O>> {
    const decodeIn = this.#project.inputEncoding === Encoding.BYTES ? (b: Uint8Array) => b : (b: Uint8Array) => JSON.parse(decoder.decode(b));
    const decodeOut = this.#project.outputEncoding === Encoding.BYTES ? (b: Uint8Array) => b : (b: Uint8Array) => JSON.parse(decoder.decode(b));
    for await (const page of this.resultPages(options)) {
      for (const r of page.results) {
        yield {
          unit: r.unitId,
          input: decodeIn(r.input) as I,
          output: decodeOut(r.output) as O,
          finishTime: r.finishTime ? timestampDate(r.finishTime) : undefined,
          copies: r.copiesSent,
          cursor: r.cursor,
        };
      }
    }
  }

  /** The project's units, oldest first, optionally only those in `state` (copies not included). */
  async *units(state: UnitState = UnitState.UNSPECIFIED): AsyncGenerator<Unit> {
    let pageToken = "";
    do {
      const page = await this.#call(() => this.#admin.listUnits({ projectId: this.id, state, pageSize: 1_000, pageToken }));
      yield* page.units;
      pageToken = page.nextPageToken;
    } while (pageToken);
  }

  /** The units that failed (used up their attempts), with the last error of each. */
  failures(): AsyncGenerator<Unit> {
    return this.units(UnitState.FAILED);
  }

  /**
   * Resolves with the project once every unit is final (done, failed, expired or cancelled),
   * watching WatchStats; reconnects by itself. Check `counts.failed` of the answer.
   */
  async done(options: { signal?: AbortSignal } = {}): Promise<Project> {
    for (let attempt = 0; ; ) {
      // Leaving the loop early must end the HTTP stream too, or it keeps the process alive.
      const stream = new AbortController();
      const signal = options.signal ? AbortSignal.any([options.signal, stream.signal]) : stream.signal;
      try {
        for await (const update of this.#admin.watchStats({ projectId: this.id, interval: { seconds: 0n, nanos: 250_000_000 } }, { signal })) {
          attempt = 0;
          const counts = update.stats?.projects[0]?.counts;
          if (counts && counts.queued + counts.running === 0n) return await this.refresh();
        }
      } catch (error) {
        if (options.signal?.aborted || !isRetryable(error)) throw this.#explain(error);
      } finally {
        stream.abort();
      }
      await sleep(backoffDelayMs(attempt++, RECONNECT_BACKOFF));
    }
  }

  /** Pauses the project: nothing more is leased until {@link resume}. */
  async pause(): Promise<Project> {
    return this.#setState(ProjectState.PAUSED);
  }

  /** Resumes a paused project. */
  async resume(): Promise<Project> {
    return this.#setState(ProjectState.ACTIVE);
  }

  /** Cancels open units (all of them when `unitIds` is empty); returns how many. */
  async cancel(unitIds: string[] = []): Promise<number> {
    return Number((await this.#call(() => this.#admin.cancelUnits({ projectId: this.id, unitIds }))).cancelled);
  }

  /** Puts units back in the queue with a fresh attempt budget: these ids, or every unit in `state` (default failed). */
  async requeue(selection: { unitIds?: string[]; state?: UnitState } = {}): Promise<number> {
    const request = { projectId: this.id, unitIds: selection.unitIds ?? [], state: selection.state ?? UnitState.UNSPECIFIED };
    return Number((await this.#call(() => this.#admin.requeueUnits(request))).requeued);
  }

  /** Deletes the project with its units and results; returns how many units went. */
  async delete(): Promise<number> {
    return Number((await this.#call(() => this.#admin.deleteProject({ id: this.id }))).deletedUnits);
  }

  async #setState(state: ProjectState): Promise<Project> {
    this.#project = (await this.#call(() => this.#admin.updateProject({ id: this.id, state }))).project!;
    return this.#project;
  }

  async #call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw this.#explain(error);
    }
  }
}
