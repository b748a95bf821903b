import { DEFAULT_BACKOFF, type BackoffPolicy } from "../backoff.js";
import { VERSION } from "../version.js";

/** Options of {@link ClientHandler}. All optional but `distributorUrl` and `platform`. */
export interface ClientHandlerOptions {
  /** Base URL of the distributor to join, e.g. `http://127.0.0.1:7200`. Redirects are followed from here. */
  distributorUrl: string;
  /** Which client this is: "node" or "browser". */
  platform: "node" | "browser";
  /** Cores (executors) announced in Join. Default: the processor's executors. */
  cores?: number;
  /** OS description or browser user agent, for statistics. Default "". */
  userAgent?: string;
  /**
   * The install's stable secret key, announced in Join (JoinRequest.client_key, 16 to 128 printable
   * ASCII characters): the grid counts this client as one volunteer across sessions and keeps its
   * trust. Default "": an anonymous client, with limited weight.
   */
  clientKey?: string;
  /** Client software version announced in Join. Default the dis.io VERSION. */
  version?: string;
  /**
   * Pinned manager key (raw 32-byte Ed25519). When set, programs are verified against it, a
   * distributor announcing another key is refused (the handler fails) and the key replaces the one
   * remembered for `distributorUrl`. Default: the key remembered for `distributorUrl` (see
   * `ClientHandlerDeps.keys`), else the key the first Join announces, then remembered.
   */
  trustKey?: Uint8Array;
  /** Slots asked for when the Work stream opens. Default: the processor's `slots`. */
  slots?: number;
  /**
   * Upper bound when the handler grows its slots because units are fast (the next Report carries
   * the new credit). Default 4096; set it to `slots` to never grow. At most 10,000 (the contract's limit).
   */
  maxSlots?: number;
  /**
   * Keep the slots, grown or not, to what holds this many bytes of tasks at the mean input size seen
   * (shrinking them as soon as larger tasks arrive; never below `slots`): large inputs keep the
   * credit, and the memory in hand, small. Default 64 MiB.
   */
  maxBytesInHand?: number;
  /** Report as soon as this many results wait. Default 1000. */
  reportBatch?: number;
  /** Report calls on the wire at once (the next batch forms while they travel). Default 2. */
  reportConcurrency?: number;
  /** Report at most this many bytes of outputs per call (at least one result). Default 4 MiB. */
  reportBatchBytes?: number;
  /** Report at the latest this long after a result arrived, ms. Default 25. */
  reportDelayMs?: number;
  /** Deadline of one Report or GetProgram call, ms. Default 30,000. */
  callTimeoutMs?: number;
  /** Reconnect and report-retry policy. Default {@link DEFAULT_BACKOFF}. */
  backoff?: BackoffPolicy;
  /** Redirect hops followed by one Join. Default 5. */
  maxRedirects?: number;
  /** GetProgram attempts before a program's tasks are reported as errors of kind "program". Default 3. */
  programFetchAttempts?: number;
}

/** {@link ClientHandlerOptions} with every default filled in. */
export type ResolvedClientHandlerOptions = Required<Omit<ClientHandlerOptions, "trustKey">> & { trustKey: Uint8Array | undefined };

/** The contract's bounds on `WorkRequest.slots`. */
export const MAX_WORK_SLOTS = 10_000;

/**
 * Fills defaults from the processor's shape and checks ranges; throws `TypeError` on nonsense.
 */
export function resolveClientHandlerOptions(
  options: ClientHandlerOptions,
  processor: { slots: number; executors: number },
): ResolvedClientHandlerOptions {
  let url: URL;
  try {
    url = new URL(options.distributorUrl);
  } catch {
    throw new TypeError(`distributorUrl: not a URL: ${JSON.stringify(options.distributorUrl)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError(`distributorUrl: must be http(s): ${options.distributorUrl}`);
  if (options.trustKey !== undefined && options.trustKey.length !== 32) {
    throw new TypeError(`trustKey: a raw Ed25519 public key has 32 bytes, got ${options.trustKey.length}`);
  }
  const slots = options.slots ?? Math.min(MAX_WORK_SLOTS, Math.max(1, processor.slots));
  const resolved: ResolvedClientHandlerOptions = {
    distributorUrl: options.distributorUrl.replace(/\/+$/, ""),
    platform: options.platform,
    cores: options.cores ?? processor.executors,
    userAgent: options.userAgent ?? "",
    clientKey: options.clientKey ?? "",
    version: options.version ?? VERSION,
    trustKey: options.trustKey,
    slots,
    maxSlots: options.maxSlots ?? Math.max(slots, 4096),
    maxBytesInHand: options.maxBytesInHand ?? 64 * 1024 * 1024,
    reportBatch: options.reportBatch ?? 1000,
    reportConcurrency: options.reportConcurrency ?? 2,
    reportBatchBytes: options.reportBatchBytes ?? 4 * 1024 * 1024,
    reportDelayMs: options.reportDelayMs ?? 25,
    callTimeoutMs: options.callTimeoutMs ?? 30_000,
    backoff: options.backoff ?? DEFAULT_BACKOFF,
    maxRedirects: options.maxRedirects ?? 5,
    programFetchAttempts: options.programFetchAttempts ?? 3,
  };
  for (const name of ["cores", "slots", "maxSlots", "maxBytesInHand", "reportBatch", "reportConcurrency", "reportBatchBytes", "maxRedirects", "programFetchAttempts"] as const) {
    const value = resolved[name];
    if (!Number.isInteger(value) || value < 1) throw new TypeError(`${name}: must be a positive integer, got ${value}`);
  }
  for (const name of ["reportDelayMs", "callTimeoutMs"] as const) {
    const value = resolved[name];
    if (!Number.isFinite(value) || value < 0) throw new TypeError(`${name}: must be a non-negative number, got ${value}`);
  }
  if (resolved.slots > MAX_WORK_SLOTS || resolved.maxSlots > MAX_WORK_SLOTS) throw new TypeError(`slots: at most ${MAX_WORK_SLOTS}`);
  if (resolved.maxSlots < resolved.slots) throw new TypeError(`maxSlots: must be ≥ slots (${resolved.slots})`);
  return resolved;
}
