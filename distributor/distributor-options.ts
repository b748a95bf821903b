import type { Logger } from "pino";
import { parseStoreUrl } from "./store/store-url.js";

/** Options of `startDistributor`. Everything but `managerUrls`, `token`, `dataDir` and `log` is optional. */
export interface DistributorOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port to listen on; 0 picks a free one. Default 7200. */
  port?: number;
  /** Managers to lease from, tried in order (the next one when the current one fails). At least one. */
  managerUrls: string[];
  /** This distributor's bearer token, issued by AdminService.CreateDistributor. */
  token: string;
  /** Folder of the store (`distributor.sqlite`); created when missing. */
  dataDir: string;
  /**
   * Store: `sqlite` (`distributor.sqlite` in `dataDir`) or `redis://host:port/db`, where several
   * distributors over one Redis and key prefix form a pool. Default `sqlite`.
   */
  store?: string;
  /** Key prefix in a Redis store; distributors sharing it share copies and results. Default `disio:`. */
  redisPrefix?: string;
  /**
   * Acknowledge a client's results only once Redis fsynced them to its AOF (WAITAOF; Redis before
   * 7.2 must run `appendfsync always`). Default false: acknowledged once in Redis's memory.
   */
  redisWaitAof?: boolean;
  /** Where clients reach this distributor, announced to the manager. Default: the listen URL. */
  publicUrl?: string;
  /** Region label announced to the manager. Default "". */
  region?: string;
  /** Most copies held at once (ready + in clients' hands). Default 20,000. */
  capacity?: number;
  /**
   * Lease no more once the held copies' tasks take this many bytes (held in memory and in the store:
   * large inputs fill this before the copy watermarks). Default 256 MiB.
   */
  capacityBytes?: number;
  /** Most clients with an open Work stream; further joins are redirected to a peer. Default 10,000. */
  maxClients?: number;
  /**
   * Most open connections, all callers (more are closed on accept). A client on HTTP/1.1 (a
   * browser) holds its Work stream on one connection and reports on another. Default: the
   * server's, 10,000.
   */
  maxConnections?: number;
  /** Most open connections from one address. Default: the server's, 256. */
  maxConnectionsPerAddress?: number;
  /** Logger; each component logs through a child. */
  log: Logger;
  /** Lease when fewer ready copies than this are held. Default half of `highWatermark`. */
  lowWatermark?: number;
  /** Fill the ready buffer up to this many copies. Default min(capacity, 10,000). */
  highWatermark?: number;
  /** Most copies per Lease (capped by the manager's max_lease_batch). Default 5,000. */
  leaseBatch?: number;
  /** Long-poll wait of a Lease when the manager has no work, ms. Default 10,000. */
  leaseWaitMs?: number;
  /** Most results per Report to the manager (capped by its max_report_batch). Default 5,000. */
  reportBatch?: number;
  /** Longest a partial batch of results waits before it is sent, ms. Default 250. */
  flushIntervalMs?: number;
  /** How long a task may stay in a client's hands before it is given to someone else, ms. Default 120,000. */
  taskLeaseMs?: number;
  /** Longest one program run may take (told to clients at Join), ms. Default 60,000. */
  maxRunTimeMs?: number;
  /** Most tasks in one Work stream message. Default 1,000. */
  workBatch?: number;
  /** Most task bytes in one Work stream message (one task always fits). Default 4 MiB. */
  workBatchBytes?: number;
  /** Keep-alive period of idle Work streams, ms. Default 15,000. */
  keepAliveMs?: number;
  /** Most results one client Report may carry. Default 10,000. */
  maxReportResults?: number;
  /**
   * How often a client must be heard from (told at Join), ms. A client silent for three intervals
   * (frozen, or gone with its connection left open) has its stream ended, no longer counts as
   * connected, and its tasks go to others. Default 10,000.
   */
  clientHeartbeatMs?: number;
  /** How often manager leases are checked for renewal, ms. Default 2,000. */
  renewCheckMs?: number;
  /** Heartbeat period until the manager sets one, ms. Default 5,000. */
  heartbeatIntervalMs?: number;
  /**
   * How long a client may still report a copy that was given to it and never reported to a manager
   * (e.g. re-issued after its lease and computed by someone else), ms. Default 1 hour.
   */
  assignmentRetentionMs?: number;
  /**
   * How long a copy refused to a client that already had a copy of its unit waits before that client
   * may have it anyway, when no other volunteer is connected (12 × as long when others are), ms.
   * Default 5,000. See WorkHubSettings.selfCopyDelayMs.
   */
  selfCopyDelayMs?: number;
  /**
   * How long a client may be without a Work stream and still continue its session (a hidden tab
   * shown again), ms; then its stay goes to the lifespan statistics. Default 60,000. See
   * WorkHubSettings.sessionGapMs.
   */
  sessionGapMs?: number;
  /** How long `close()` waits for buffered results to reach a manager by default, ms. Default 5,000. */
  closeGraceMs?: number;
  /**
   * While no manager answers and no fresh copy is left, the distributor re-serves units whose copies
   * it gave out (and whose results no manager acknowledged yet) to other clients as extra copies, at
   * most this many per unit; the manager counts their results toward the units' quorums when it
   * answers again. 0 turns extra copies off. Default 2. See docs/operations.md.
   */
  outageExtraCopies?: number;
  /**
   * Folder of the built browser embed (client.js, runner.html, demo.html: `npm run build` writes
   * `dist/browser/`), served at `/client.js`, `/runner.html`, `/client.d.ts` and `/`. Default: the
   * package's `dist/browser/`.
   */
  browserAssetsDir?: string;
}

/** {@link DistributorOptions} with every default filled in and checked. */
export type ResolvedDistributorOptions = Required<Omit<DistributorOptions, "publicUrl" | "browserAssetsDir" | "maxConnections" | "maxConnectionsPerAddress">> &
  Pick<DistributorOptions, "publicUrl" | "browserAssetsDir" | "maxConnections" | "maxConnectionsPerAddress">;

function positive(name: string, value: number, integer = true): number {
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new TypeError(`${name} must be a positive ${integer ? "integer" : "number"}, got ${value}`);
  }
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new TypeError(`${name} must be a non-negative integer, got ${value}`);
  return value;
}

/** Fills defaults and rejects nonsense with a `TypeError` naming the option. */
export function resolveDistributorOptions(options: DistributorOptions): ResolvedDistributorOptions {
  if (!Array.isArray(options.managerUrls) || options.managerUrls.length === 0) {
    throw new TypeError("managerUrls must list at least one manager URL");
  }
  for (const url of options.managerUrls) {
    if (!/^https?:\/\/[^/]+/.test(url)) throw new TypeError(`managerUrls: not an http(s) URL: ${JSON.stringify(url)}`);
  }
  if (typeof options.token !== "string" || options.token === "") throw new TypeError("token is required");
  if (typeof options.dataDir !== "string" || options.dataDir === "") throw new TypeError("dataDir is required");
  const store = options.store ?? "sqlite";
  parseStoreUrl(store);
  if (options.redisPrefix !== undefined && options.redisPrefix === "") throw new TypeError("redisPrefix must not be empty");
  const port = options.port ?? 7200;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`port must be 0..65535, got ${port}`);
  const capacity = positive("capacity", options.capacity ?? 20_000);
  const highWatermark = positive("highWatermark", options.highWatermark ?? Math.min(capacity, 10_000));
  if (highWatermark > capacity) throw new TypeError(`highWatermark (${highWatermark}) must not exceed capacity (${capacity})`);
  const lowWatermark = positive("lowWatermark", options.lowWatermark ?? Math.max(1, Math.floor(highWatermark / 2)));
  if (lowWatermark > highWatermark) throw new TypeError(`lowWatermark (${lowWatermark}) must not exceed highWatermark (${highWatermark})`);
  return {
    host: options.host ?? "127.0.0.1",
    port,
    managerUrls: options.managerUrls.map((url) => url.replace(/\/+$/, "")),
    token: options.token,
    dataDir: options.dataDir,
    store,
    redisPrefix: options.redisPrefix ?? "disio:",
    redisWaitAof: options.redisWaitAof ?? false,
    publicUrl: options.publicUrl,
    region: options.region ?? "",
    capacity,
    capacityBytes: positive("capacityBytes", options.capacityBytes ?? 256 * 1024 * 1024),
    maxClients: positive("maxClients", options.maxClients ?? 10_000),
    maxConnections: options.maxConnections === undefined ? undefined : positive("maxConnections", options.maxConnections),
    maxConnectionsPerAddress: options.maxConnectionsPerAddress === undefined ? undefined : positive("maxConnectionsPerAddress", options.maxConnectionsPerAddress),
    log: options.log,
    lowWatermark,
    highWatermark,
    leaseBatch: positive("leaseBatch", options.leaseBatch ?? 5_000),
    leaseWaitMs: positive("leaseWaitMs", options.leaseWaitMs ?? 10_000),
    reportBatch: positive("reportBatch", options.reportBatch ?? 5_000),
    flushIntervalMs: positive("flushIntervalMs", options.flushIntervalMs ?? 250),
    taskLeaseMs: positive("taskLeaseMs", options.taskLeaseMs ?? 120_000),
    maxRunTimeMs: positive("maxRunTimeMs", options.maxRunTimeMs ?? 60_000),
    workBatch: positive("workBatch", options.workBatch ?? 1_000),
    workBatchBytes: positive("workBatchBytes", options.workBatchBytes ?? 4 * 1024 * 1024),
    keepAliveMs: positive("keepAliveMs", options.keepAliveMs ?? 15_000),
    maxReportResults: positive("maxReportResults", options.maxReportResults ?? 10_000),
    clientHeartbeatMs: positive("clientHeartbeatMs", options.clientHeartbeatMs ?? 10_000),
    renewCheckMs: positive("renewCheckMs", options.renewCheckMs ?? 2_000),
    heartbeatIntervalMs: positive("heartbeatIntervalMs", options.heartbeatIntervalMs ?? 5_000),
    assignmentRetentionMs: positive("assignmentRetentionMs", options.assignmentRetentionMs ?? 3_600_000),
    closeGraceMs: positive("closeGraceMs", options.closeGraceMs ?? 5_000),
    browserAssetsDir: options.browserAssetsDir,
    selfCopyDelayMs: positive("selfCopyDelayMs", options.selfCopyDelayMs ?? 5_000),
    sessionGapMs: positive("sessionGapMs", options.sessionGapMs ?? 60_000),
    outageExtraCopies: nonNegative("outageExtraCopies", options.outageExtraCopies ?? 2),
  };
}
