/**
 * The manager: the source of truth of a dis.io grid. `startManager` opens the store in the data
 * folder, loads (or makes) the signing key and admin token, and serves AdminService and
 * ManagerService on one port.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "pino";
import { Counter, Gauge } from "prom-client";
import { AdminService } from "../gen/disio/v1/admin_service_pb.js";
import { ManagerService } from "../gen/disio/v1/manager_service_pb.js";
import { StoreHealth } from "../core/store-health.js";
import { startServer } from "../server/index.js";
import { loadOrCreateAdminToken } from "./admin-token.js";
import { adminAuthenticator, distributorAuthenticator } from "./authenticators.js";
import { DEFAULT_LIMITS, type ManagerContext } from "./manager-context.js";
import { panelRoutes } from "./panel-routes.js";
import { managerBinaryRoutes, managerRoutes } from "./routes.js";
import { loadOrCreateSigningKey, loadSigningKeyFile } from "./signing-key.js";
import { allProjects } from "./store/all-projects.js";
import { openManagerStore } from "./store/open-manager-store.js";
import { DEFAULT_MANAGER_STORE, parseManagerStoreUrl } from "./store/store-url.js";
import { Sweeper } from "./sweeper.js";
import { ValidationQueue } from "./validation-queue.js";
import { ValidatorPool } from "./validator-pool.js";
import { ThroughputMeter } from "./throughput-meter.js";

/** Options of {@link startManager}. */
export interface ManagerOptions {
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
  /** Port to bind; 0 picks a free one. Default 7100. */
  port?: number;
  /** Data folder: the store (when kept there), `admin-token`, `signing-key.pem`, `manager-id`. Created if missing. Required. */
  dataDir: string;
  /** Store, as `disio manager --store` takes it (see manager/store/store-url.ts). Default: the embedded one, in the data folder. */
  store?: string;
  /** Admin bearer token. Default: the one in `<dataDir>/admin-token`, generated on first start. */
  adminToken?: string;
  /**
   * Ed25519 private key (PEM) that signs programs, kept outside the data folder: on another volume,
   * shared by the managers of a group, or a rotated key. Default `<dataDir>/signing-key.pem`, created
   * on first start. Stored programs are served signed with the key in force.
   */
  signingKeyFile?: string;
  /** Logger; the manager logs through `log.child({ part: "manager" })` and children per component. */
  log: Logger;
  /** Most copies one Lease hands out. Default 5000. */
  maxLeaseBatch?: number;
  /** Longest Lease long-poll, ms. Default 30000. */
  maxLeaseWaitMs?: number;
  /** Most results one Report may carry. Default 10000. */
  maxReportBatch?: number;
  /** Heartbeat interval told to distributors, ms. Default 5000. */
  heartbeatIntervalMs?: number;
  /** Lease-expiry / deadline sweep interval, ms. Default 1000. */
  sweepIntervalMs?: number;
  /**
   * After start, how long no lease times out, so distributors can reconnect and renew the leases
   * that ran out while the manager was down, ms. 0 disables it. Default 60000.
   */
  startupLeaseGraceMs?: number;
  /** Largest request message, bytes (AddUnits of thousands of inputs). Default 64 MiB. */
  readMaxBytes?: number;
}

/** A running manager. */
export interface RunningManager {
  /** `http://host:port` where it listens. */
  readonly url: string;
  /** The admin bearer token in force. */
  readonly adminToken: string;
  /** The program-signing public key, raw 32 bytes as base64 (for `disio worker --trust`). */
  readonly publicKeyBase64: string;
  /** The manager's id, stable across restarts on the same data folder. */
  readonly managerId: string;
  /** Stops serving (in-flight calls get `graceMs`, default 5000), stops the sweeper, closes the store. */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** Resolved {@link ManagerOptions}. Throws TypeError on nonsense. */
function resolveManagerOptions(o: ManagerOptions) {
  if (!o.dataDir) throw new TypeError("dataDir is required");
  const store = o.store ?? DEFAULT_MANAGER_STORE;
  parseManagerStoreUrl(store);
  const positive = (name: string, value: number | undefined, fallback: number) => {
    const v = value ?? fallback;
    if (!Number.isFinite(v) || v <= 0) throw new TypeError(`${name} must be a positive number, got ${v}`);
    return v;
  };
  const nonNegative = (name: string, value: number | undefined, fallback: number) => {
    const v = value ?? fallback;
    if (!Number.isFinite(v) || v < 0) throw new TypeError(`${name} must be a number ≥ 0, got ${v}`);
    return v;
  };
  return {
    host: o.host ?? "127.0.0.1",
    port: o.port ?? 7100,
    dataDir: o.dataDir,
    store,
    limits: {
      ...DEFAULT_LIMITS,
      maxLeaseBatch: positive("maxLeaseBatch", o.maxLeaseBatch, DEFAULT_LIMITS.maxLeaseBatch),
      maxLeaseWaitMs: positive("maxLeaseWaitMs", o.maxLeaseWaitMs, DEFAULT_LIMITS.maxLeaseWaitMs),
      maxReportBatch: positive("maxReportBatch", o.maxReportBatch, DEFAULT_LIMITS.maxReportBatch),
      heartbeatIntervalMs: positive("heartbeatIntervalMs", o.heartbeatIntervalMs, DEFAULT_LIMITS.heartbeatIntervalMs),
    },
    sweepIntervalMs: positive("sweepIntervalMs", o.sweepIntervalMs, 1_000),
    startupLeaseGraceMs: nonNegative("startupLeaseGraceMs", o.startupLeaseGraceMs, 60_000),
    readMaxBytes: positive("readMaxBytes", o.readMaxBytes, 64 * 1024 * 1024),
  };
}

/**
 * Starts a manager on its data folder. Resolves once it listens. `/healthz` answers 503 with the
 * reason while the last store write failed (e.g. the disk is full), 200 again once one succeeds.
 */
export async function startManager(options: ManagerOptions): Promise<RunningManager> {
  const o = resolveManagerOptions(options);
  const log = options.log.child({ part: "manager" });
  mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
  const adminToken = loadOrCreateAdminToken(o.dataDir, options.adminToken);
  const signer = options.signingKeyFile === undefined ? loadOrCreateSigningKey(o.dataDir) : loadSigningKeyFile(options.signingKeyFile);
  const managerId = loadOrCreateManagerId(o.dataDir);
  const storeHealth = new StoreHealth();
  const store = await openManagerStore({ store: o.store, dataDir: o.dataDir, health: storeHealth, log: log.child({ component: "store" }) });
  try {
    const groupId = await store.groupId();
    const meter = new ThroughputMeter();
    const stopping = new AbortController();
    const metrics = { leased: undefined as Counter | undefined, reported: undefined as Counter | undefined };
    const validators = new ValidatorPool();
    const validations = new ValidationQueue({
      store,
      pool: validators,
      log: log.child({ component: "validation" }),
      now: Date.now,
    });
    const ctx: ManagerContext = {
      store,
      validators,
      validations,
      signer,
      managerId,
      groupId,
      limits: o.limits,
      meter,
      metrics: {
        unitsLeased: (count) => metrics.leased?.inc(count),
        resultsReported: ({ accepted, duplicates, unknown, refused }) => {
          if (accepted > 0) metrics.reported?.inc({ status: "accepted" }, accepted);
          if (duplicates > 0) metrics.reported?.inc({ status: "duplicate" }, duplicates);
          if (unknown > 0) metrics.reported?.inc({ status: "unknown" }, unknown);
          if (refused > 0) metrics.reported?.inc({ status: "refused" }, refused);
        },
      },
      log: log.child({ component: "rpc" }),
      now: Date.now,
      stopping: stopping.signal,
    };
    const server = await startServer({
      host: o.host,
      port: o.port,
      routes: managerRoutes(ctx),
      binaryRoutes: managerBinaryRoutes(ctx),
      policies: [
        { service: AdminService.typeName, authenticate: adminAuthenticator(adminToken) },
        { service: ManagerService.typeName, authenticate: distributorAuthenticator(store) },
      ],
      readMaxBytes: o.readMaxBytes,
      staticRoutes: panelRoutes(),
      healthy: () => {
        const status = storeHealth.status;
        return status.healthy || { unhealthy: status.reason };
      },
      log,
    });
    metrics.leased = new Counter({ name: "disio_units_leased_total", help: "Unit copies leased to distributors.", registers: [server.registry] });
    metrics.reported = new Counter({
      name: "disio_results_reported_total",
      help: "Results reported by distributors, by status (accepted, duplicate, unknown, refused).",
      labelNames: ["status"],
      registers: [server.registry],
    });
    new Gauge({
      name: "disio_queue_depth",
      help: "Units waiting for a copy (queued), across projects.",
      registers: [server.registry],
      async collect() {
        const projects = await allProjects(store);
        this.set(projects.reduce((sum, p) => sum + p.counts.queued, 0));
      },
    });
    const sweeper = new Sweeper({
      store,
      meter,
      intervalMs: o.sweepIntervalMs,
      startupGraceMs: o.startupLeaseGraceMs,
      log: log.child({ component: "sweeper" }),
      now: Date.now,
    });
    sweeper.start();
    validations.kick();
    log.info({ url: server.url, managerId, groupId, publicKey: signer.publicKeyBase64, dataDir: o.dataDir }, "manager listening");
    let closing: Promise<void> | undefined;
    return {
      url: server.url,
      adminToken,
      publicKeyBase64: signer.publicKeyBase64,
      managerId,
      close(closeOptions) {
        closing ??= (async () => {
          stopping.abort();
          await server.close(closeOptions);
          await sweeper.stop();
          await validations.stop();
          validators.close();
          await store.close();
          log.info("manager stopped");
        })();
        return closing;
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}

function loadOrCreateManagerId(dataDir: string): string {
  const path = join(dataDir, "manager-id");
  try {
    const id = readFileSync(path, "utf8").trim();
    if (id !== "") return id;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const id = `m-${randomUUID()}`;
  writeFileSync(path, `${id}\n`);
  return id;
}
