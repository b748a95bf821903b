import { availableParallelism } from "node:os";
import type { Logger } from "pino";

/** Options of {@link startWorker}. All optional but `distributorUrl` and `log`. */
export interface WorkerOptions {
  /** Base URL of the distributor to join, e.g. `http://127.0.0.1:7200`. */
  distributorUrl: string;
  /** Unit-runner processes. Default `os.availableParallelism()`. */
  workers?: number;
  /**
   * Pinned manager key, base64 of the raw 32-byte Ed25519 key: programs must be signed by it, a
   * distributor announcing another key is refused, and it replaces the key remembered for
   * `distributorUrl` (how a rotated key is accepted). Default: the remembered key, else trust on first use.
   */
  trustKey?: string;
  /**
   * The worker's stable client key (see ClientHandlerOptions.clientKey). Default: the one kept in
   * `homeDir` when that is set (see worker-key.ts), else none (an anonymous client).
   */
  clientKey?: string;
  /** The worker's state folder (the CLI passes $DISIO_HOME, default ~/.disio): holds its client key. Default: none. */
  homeDir?: string;
  /**
   * File remembering the manager keys trusted on first use, per distributor URL (JSON, see
   * `trustedKeysFile`). Default: none, keys are remembered for the life of the worker only (the CLI
   * passes `~/.disio/trusted-keys.json`).
   */
  trustedKeysFile?: string;
  /** Fraction of each core to use, 0 < cpu ≤ 1: a runner idles `(1 - cpu) / cpu` × run time after each unit. Default 1. */
  cpu?: number;
  /** Wall-clock limit of one unit, ms (the distributor may set a lower one). Default 60,000. */
  maxRunTimeMs?: number;
  /** V8 heap limit of each runner, MiB. Default 512. */
  heapLimitMb?: number;
  /** Tasks held per runner when the stream opens (grown automatically for fast units). Default 4. */
  slotsPerWorker?: number;
  /** Upper bound of the task credit. Default 4096. */
  maxSlots?: number;
  /** HTTP version to the distributor. Default "2" (h2c: one connection carries the stream and every Report). */
  httpVersion?: "1.1" | "2";
  /**
   * Accept gzip-compressed task streams. Default false: on a LAN compression costs both ends more CPU
   * than it saves (measured: ~25k → ~30k trivial units/s client ceiling without it); turn it on for
   * slow links.
   */
  gzip?: boolean;
  /** Report as soon as this many results wait. Default 1000. */
  reportBatch?: number;
  /** Report at the latest this long after a result arrived, ms. Default 25. */
  reportDelayMs?: number;
  /** Logger; the worker logs through `log.child({ part: "worker" })`. */
  log: Logger;
}

/** {@link WorkerOptions} with defaults filled in and the trust key decoded. */
export interface ResolvedWorkerOptions extends Required<Omit<WorkerOptions, "trustKey" | "clientKey" | "homeDir" | "trustedKeysFile">> {
  trustKey: Uint8Array | undefined;
  clientKey: string | undefined;
  homeDir: string | undefined;
  trustedKeysFile: string | undefined;
}

/** Fills defaults and checks ranges; throws `TypeError` on nonsense. */
export function resolveWorkerOptions(options: WorkerOptions): ResolvedWorkerOptions {
  const resolved: ResolvedWorkerOptions = {
    distributorUrl: options.distributorUrl,
    workers: options.workers ?? availableParallelism(),
    trustKey: options.trustKey === undefined ? undefined : decodeTrustKey(options.trustKey),
    clientKey: options.clientKey,
    homeDir: options.homeDir,
    trustedKeysFile: options.trustedKeysFile,
    cpu: options.cpu ?? 1,
    maxRunTimeMs: options.maxRunTimeMs ?? 60_000,
    heapLimitMb: options.heapLimitMb ?? 512,
    slotsPerWorker: options.slotsPerWorker ?? 4,
    maxSlots: options.maxSlots ?? 4096,
    httpVersion: options.httpVersion ?? "2",
    gzip: options.gzip ?? false,
    reportBatch: options.reportBatch ?? 1000,
    reportDelayMs: options.reportDelayMs ?? 25,
    log: options.log,
  };
  for (const name of ["workers", "heapLimitMb", "slotsPerWorker", "maxSlots", "reportBatch"] as const) {
    if (!Number.isInteger(resolved[name]) || resolved[name] < 1) throw new TypeError(`${name}: must be a positive integer, got ${resolved[name]}`);
  }
  if (!(resolved.cpu > 0 && resolved.cpu <= 1)) throw new TypeError(`cpu: must be a fraction in (0, 1], got ${resolved.cpu}`);
  if (!(resolved.maxRunTimeMs > 0)) throw new TypeError(`maxRunTimeMs: must be positive, got ${resolved.maxRunTimeMs}`);
  if (!(resolved.reportDelayMs >= 0)) throw new TypeError(`reportDelayMs: must be ≥ 0, got ${resolved.reportDelayMs}`);
  if (resolved.httpVersion !== "1.1" && resolved.httpVersion !== "2") throw new TypeError(`httpVersion: "1.1" or "2", got ${resolved.httpVersion}`);
  return resolved;
}

function decodeTrustKey(base64: string): Uint8Array {
  const key = Buffer.from(base64.trim(), "base64");
  if (key.length !== 32 || key.toString("base64") !== base64.trim()) {
    throw new TypeError("trustKey: must be the base64 of a raw 32-byte Ed25519 public key");
  }
  return new Uint8Array(key);
}
