import { Code, ConnectError, createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { durationFromMs, durationMs, EmptySchema } from "@bufbuild/protobuf/wkt";
import type { Logger } from "pino";
import { backoffDelayMs, DEFAULT_BACKOFF, type BackoffPolicy } from "../../core/backoff.js";
import { VERSION } from "../../core/version.js";
import { ManagerService, type RegisterResponse } from "../../gen/disio/v1/manager_service_pb.js";
import { compressionFastGzip } from "../../server/index.js";
import { rawTasksOf } from "../raw-task.js";
import { Signal, sleep } from "../signal.js";

/** The manager's instructions, with our defaults until it answered. */
export interface LinkSettings {
  heartbeatIntervalMs: number;
  maxLeaseBatch: number;
  maxReportBatch: number;
  maxLeaseWaitMs: number;
}

/** Options of {@link ManagerLink}. */
export interface ManagerLinkOptions {
  /** Managers in order of preference. */
  urls: readonly string[];
  /** Our bearer token. */
  token: string;
  /** What Register announces. */
  announce: { publicUrl: string; region: string; capacity: number };
  /** Defaults of the settings until the manager sends its own. */
  defaults: LinkSettings;
  /**
   * The copies this distributor knows of (held, or with a result not yet acknowledged), listed by
   * its first registration so the manager gives back the ones it lost; undefined when too many to
   * list (the lost ones then wait for their manager lease to expire).
   */
  knownCopies?: () => Promise<string[] | undefined>;
  /** Called with each successful registration (persist it, learn peers). */
  onRegistered: (response: RegisterResponse, managerUrl: string) => Promise<void>;
  /**
   * Called once when a manager refuses our token (Unauthenticated or PermissionDenied at Register):
   * retrying cannot help, so the link stops. Absent: the link keeps retrying.
   */
  onRefused?: (error: ConnectError) => void;
  log: Logger;
  backoff?: BackoffPolicy;
  /** Largest message sent or received, bytes. Default 64 MiB. */
  maxMessageBytes?: number;
}

/** Codes that mean "the call itself was wrong", not "the manager is unreachable". */
const CALL_FAULTS = new Set([
  Code.Canceled,
  Code.InvalidArgument,
  Code.NotFound,
  Code.AlreadyExists,
  Code.PermissionDenied,
  Code.FailedPrecondition,
  Code.ResourceExhausted,
  Code.OutOfRange,
]);

/**
 * The distributor's connection to its managers: one client per manager URL (Connect over h2c,
 * binary, gzip both ways, bearer token), registration at start and again whenever a call fails for
 * a reason that means the manager is gone (then the next URL is tried: simple failover). Calls wait
 * for a registration first; the loops that use it retry with their own backoff.
 */
export class ManagerLink {
  readonly #options: ManagerLinkOptions;
  readonly #log: Logger;
  readonly #clients = new Map<string, { client: Client<typeof ManagerService>; transport: Transport }>();
  readonly #registeredSignal = new Signal();
  readonly #lostSignal = new Signal();
  #urlIndex = 0;
  #registered = false;
  #reconciled = false;
  #connected = false;
  /** Whether the current outage was logged at warn (once per outage, with its reason). */
  #outageLogged = false;
  #settings: LinkSettings;

  constructor(options: ManagerLinkOptions) {
    this.#options = options;
    this.#log = options.log.child({ component: "manager-link" });
    this.#settings = { ...options.defaults };
  }

  /** Whether the last call to a manager succeeded. */
  get connected(): boolean {
    return this.#connected;
  }

  /** The manager URL in use. */
  get url(): string {
    return this.#options.urls[this.#urlIndex] as string;
  }

  /** Current settings (the manager's once registered). */
  get settings(): LinkSettings {
    return this.#settings;
  }

  /** Keeps the registration: registers, and registers again after the link was lost. Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    let attempt = 0;
    while (!signal.aborted) {
      if (this.#registered) {
        await this.#lostSignal.wait(60_000, signal);
        continue;
      }
      try {
        // Only the first registration reconciles: no Lease has been sent yet, so every copy the
        // manager has pending for us and we do not know of was lost (a later one could race a Lease).
        const known = this.#reconciled ? undefined : await this.#options.knownCopies?.();
        const response = await this.#client().client.register(
          { ...this.#options.announce, version: VERSION, reconcile: known !== undefined, heldCopyIds: known ?? [] },
          { signal, timeoutMs: 10_000 },
        );
        if (!this.#reconciled && response.releasedCopies > 0) {
          this.#log.info({ released: response.releasedCopies }, "copies lost before this start went back to the manager's queue");
        }
        this.#reconciled = true;
        this.#applySettings(response);
        await this.#options.onRegistered(response, this.url);
        this.#registered = true;
        this.#connected = true;
        this.#outageLogged = false;
        attempt = 0;
        this.#log.info({ managerUrl: this.url, distributorId: response.distributorId }, "registered with manager");
        this.#registeredSignal.notify();
      } catch (error) {
        if (signal.aborted) break;
        const err = ConnectError.from(error);
        if (this.#options.onRefused && (err.code === Code.Unauthenticated || err.code === Code.PermissionDenied)) {
          this.#log.error({ managerUrl: this.url, code: Code[err.code], err: err.rawMessage }, "manager refused this distributor's token");
          this.#options.onRefused(err);
          return;
        }
        this.#failed(error, "register");
        await sleep(backoffDelayMs(attempt++, this.#options.backoff ?? DEFAULT_BACKOFF), signal);
      }
    }
  }

  /**
   * Runs `fn` with the current manager client once registered. A failure that means the manager is
   * unreachable marks the link lost (re-register, next URL); the error is rethrown either way.
   */
  async call<T>(what: string, fn: (client: Client<typeof ManagerService>) => Promise<T>, signal: AbortSignal): Promise<T> {
    while (!this.#registered) {
      if (signal.aborted) throw new ConnectError(`${what}: aborted`, Code.Canceled);
      await this.#registeredSignal.wait(1_000, signal);
    }
    try {
      const result = await fn(this.#client().client);
      this.#connected = true;
      return result;
    } catch (error) {
      if (!signal.aborted) this.#failed(error, what);
      throw error;
    }
  }

  /**
   * Lease, returning the tasks still encoded: the response is read with a schema that knows no
   * fields, so every task stays raw bytes (nothing decoded here, nothing re-encoded for the store or
   * the clients). Same waiting and failure handling as {@link call}; `stop` ends the wait for a
   * registration, but only `cancel` aborts a call once sent (the manager may have leased copies).
   */
  async leaseRaw(maxCopies: number, waitMs: number, signals: { stop: AbortSignal; cancel: AbortSignal }): Promise<Uint8Array[]> {
    const method = { ...ManagerService.method.lease, output: EmptySchema };
    return this.call(
      "lease",
      async () => {
        const response = await this.#client().transport.unary(method, signals.cancel, waitMs + 15_000, undefined, {
          maxCopies,
          wait: durationFromMs(waitMs),
        });
        return rawTasksOf(response.message.$unknown);
      },
      AbortSignal.any([signals.stop, signals.cancel]),
    );
  }

  #failed(error: unknown, what: string): void {
    const err = ConnectError.from(error);
    if (CALL_FAULTS.has(err.code)) {
      this.#log.warn({ call: what, code: Code[err.code], err: err.rawMessage }, "manager call rejected");
      return;
    }
    const wasUp = this.#connected || this.#registered;
    this.#connected = false;
    this.#registered = false;
    if (this.#options.urls.length > 1) this.#urlIndex = (this.#urlIndex + 1) % this.#options.urls.length;
    if (wasUp || !this.#outageLogged) {
      this.#outageLogged = true;
      this.#log.warn({ call: what, code: Code[err.code], err: err.rawMessage, next: this.url }, "manager unreachable");
    } else this.#log.debug({ call: what, code: Code[err.code], err: err.rawMessage, next: this.url }, "manager still unreachable");
    this.#lostSignal.notify();
  }

  #applySettings(response: RegisterResponse): void {
    const s = response.settings;
    if (s === undefined) return;
    const d = this.#options.defaults;
    this.#settings = {
      heartbeatIntervalMs: s.heartbeatInterval ? durationMs(s.heartbeatInterval) || d.heartbeatIntervalMs : d.heartbeatIntervalMs,
      maxLeaseBatch: s.maxLeaseBatch || d.maxLeaseBatch,
      maxReportBatch: s.maxReportBatch || d.maxReportBatch,
      maxLeaseWaitMs: s.maxLeaseWait ? durationMs(s.maxLeaseWait) || d.maxLeaseWaitMs : d.maxLeaseWaitMs,
    };
  }

  #client(): { client: Client<typeof ManagerService>; transport: Transport } {
    const url = this.url;
    let entry = this.#clients.get(url);
    if (entry === undefined) {
      const token = this.#options.token;
      const auth: Interceptor = (next) => (req) => {
        req.header.set("Authorization", `Bearer ${token}`);
        return next(req);
      };
      const maxBytes = this.#options.maxMessageBytes ?? 64 * 1024 * 1024;
      const transport = createConnectTransport({
        baseUrl: url,
        httpVersion: "2",
        useBinaryFormat: true,
        sendCompression: compressionFastGzip,
        acceptCompression: [compressionFastGzip],
        compressMinBytes: 1024,
        readMaxBytes: maxBytes,
        writeMaxBytes: maxBytes,
        interceptors: [auth],
        pingIntervalMs: 15_000,
        idleConnectionTimeoutMs: 60_000,
      });
      entry = { client: createClient(ManagerService, transport), transport };
      this.#clients.set(url, entry);
    }
    return entry;
  }
}
