import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { Code, ConnectError } from "@connectrpc/connect";
import { Registry } from "prom-client";
import { isStoreError } from "../core/errors.js";
import { StoreHealth } from "../core/store-health.js";
import { startServer, type RunningServer } from "../server/index.js";
import { AckedCopies } from "./acked-copies.js";
import { browserRoutes, defaultBrowserAssetsDir } from "./browser-assets.js";
import { resolveDistributorOptions, type DistributorOptions } from "./distributor-options.js";
import { ManagerUnavailableError } from "./errors.js";
import { runHeartbeatLoop } from "./manager-link/heartbeat-loop.js";
import { runLeaseLoop } from "./manager-link/lease-loop.js";
import { ManagerLink } from "./manager-link/manager-link.js";
import { directivesFromProto, heartbeatRequest, peersFromProto, renewalsFromProto } from "./manager-link/manager-mappers.js";
import { runRenewLoop } from "./manager-link/renew-loop.js";
import { flushBatch, runReportLoop, type ReportLoopDeps } from "./manager-link/report-loop.js";
import { registerDistributorMetrics } from "./metrics.js";
import { ProgramCache } from "./program-cache.js";
import type { PeerInfo } from "./redirect-peer.js";
import { reportRequestFromStored } from "./result-mapper.js";
import { distributorPolicies, distributorRoutes } from "./routes.js";
import { createSessionTokens } from "./session-tokens.js";
import { Signal } from "./signal.js";
import { openDistributorStore } from "./store/open-distributor-store.js";
import type { Registration } from "./store/store.js";
import { leasedCopyFromTask } from "./task-mapper.js";
import { WorkHub } from "./work-hub.js";
import { DEFAULT_EXTRA_COPY_BYTES, ExtraCopies } from "./extra-copies.js";

/** Where a distributor stands in its life. */
export type DistributorState = "initialized" | "running" | "draining" | "stopped" | "failed";

/** A started distributor. */
export interface RunningDistributor {
  /** `http://host:port` it listens on. */
  readonly url: string;
  /** Its id as the manager knows it ("" until the first registration). */
  readonly distributorId: string;
  /** Lifecycle state. */
  readonly state: DistributorState;
  /**
   * Resolves once `close()` finished; rejects when the distributor gave up on its own: its
   * manager refused its token (the caller should close it and exit non-zero).
   */
  readonly closed: Promise<void>;
  /**
   * Graceful stop: stop leasing (a Lease already sent is awaited for at most a second, or `graceMs`
   * if shorter, and its copies stored, since the manager leased them either way), tell clients to
   * pause and end their streams, finish in-flight calls, send buffered results to the manager for
   * at most `graceMs` (default `closeGraceMs`), close the store. Held copies and results not sent
   * stay in the store for the next start.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** Most copy ids a reconciling Register lists (the manager's limit). */
const MAX_RECONCILE_COPY_IDS = 200_000;
/** Largest Report batch sent to a manager, bytes (its default read limit is 64 MiB). */
const MAX_REPORT_BYTES = 8 * 1024 * 1024;
/** Longest wait for a Release of copies the store could not take, ms. */
const RELEASE_TIMEOUT_MS = 10_000;
/** How often assignments are pruned, ms. */
const PRUNE_EVERY_MS = 5_000;
/** How long after a manager acknowledged a result its client may still retry the Report (answered as duplicate), ms. */
const REPORT_RETRY_WINDOW_MS = 30_000;
/**
 * How long close waits for a Lease in flight, at most, ms. A manager with copies to lease answers
 * in milliseconds; a Lease still open after this is long-polling for work, and a long-poll cancelled
 * while it waits leases nothing. In the rare race where the answer was on its way, the next start's
 * reconciling Register returns those copies to the manager's queue (else their lease expires).
 */
const LEASE_ANSWER_WAIT_MS = 1_000;

/**
 * Starts a distributor: opens its store (`store`: SQLite in `dataDir`, or Redis; resuming held copies and buffered results
 * after any stop, including kill -9), serves DistributorService on one port, and keeps a link to
 * its managers (register, lease, renew, report, heartbeat). It starts and serves what it holds even
 * when no manager is reachable. `/healthz` answers 503 with the reason while the last store write
 * failed (e.g. the disk is full), 200 again once one succeeds.
 */
export async function startDistributor(options: DistributorOptions): Promise<RunningDistributor> {
  const o = resolveDistributorOptions(options);
  const log = o.log.child({ part: "distributor" });
  let state: DistributorState = "initialized";
  let settleClosed!: { resolve: () => void; reject: (error: Error) => void };
  const closed = new Promise<void>((resolve, reject) => (settleClosed = { resolve, reject }));
  // Nobody may listen before the caller reads `closed`: keep an early rejection from crashing Node.
  closed.catch(() => undefined);
  let refused = false;
  const gaveUp = (error: Error) => {
    refused = true;
    state = "failed";
    settleClosed.reject(error);
  };
  const storeHealth = new StoreHealth();
  const store = await openDistributorStore({
    store: o.store,
    dataDir: o.dataDir,
    redisPrefix: o.redisPrefix,
    redisWaitAof: o.redisWaitAof,
    // Stable across restarts on the same port, so that a restart after a kill frees what the killed process gave.
    instance: o.port === 0 ? undefined : `${hostname()}:${o.port}`,
    health: storeHealth,
    log: log.child({ component: "store" }),
  });
  let server: RunningServer | undefined;
  try {
    const tokens = createSessionTokens(await store.ensureSecret(() => new Uint8Array(randomBytes(32))));
    let registration: Registration | undefined = await store.loadRegistration();
    let peers: PeerInfo[] = [];
    let draining = false;
    let link: ManagerLink | undefined;
    const demand = new Signal();
    const registry = new Registry();
    // The hub exists only below; the metrics read it through this late-bound reference.
    const clients = { count: () => 0 };
    const metrics = registerDistributorMetrics(registry, { counts: () => store.counts(), clients: () => clients.count() });
    const hub = new WorkHub({
      store,
      log,
      settings: {
        taskLeaseMs: o.taskLeaseMs,
        workBatch: o.workBatch,
        workBatchBytes: o.workBatchBytes,
        keepAliveMs: o.keepAliveMs,
        maxReportResults: o.maxReportResults,
        heartbeatMs: o.clientHeartbeatMs,
        selfCopyDelayMs: o.selfCopyDelayMs,
        sessionGapMs: o.sessionGapMs,
      },
      events: {
        tasksGiven(count) {
          metrics.tasksGiven(count);
          demand.notify();
        },
        resultsReceived: metrics.resultsReceived,
        extraCopiesGiven: metrics.extraCopiesGiven,
      },
      extraCopies: new ExtraCopies({ perUnit: o.outageExtraCopies, maxBytes: DEFAULT_EXTRA_COPY_BYTES }),
      managerReachable: () => link?.connected === true,
    });
    clients.count = () => hub.connectedClients;

    const programs = new ProgramCache(store, async (hash) => {
      if (link === undefined) throw new ManagerUnavailableError("get program");
      try {
        const response = await link.call(
          "get program",
          (c) => c.getProgram({ hash }, { timeoutMs: 10_000 }),
          AbortSignal.timeout(10_000),
        );
        return response.program;
      } catch (error) {
        const err = ConnectError.from(error);
        if (err.code === Code.NotFound) return undefined;
        throw new ManagerUnavailableError("get program", { cause: err });
      }
    }, { managerKey: () => registration?.managerPublicKey });

    server = await startServer({
      host: o.host,
      port: o.port,
      maxConnections: o.maxConnections,
      maxConnectionsPerAddress: o.maxConnectionsPerAddress,
      log,
      registry,
      policies: distributorPolicies(tokens),
      staticRoutes: browserRoutes(o.browserAssetsDir ?? defaultBrowserAssetsDir(), log),
      healthy: () => {
        if (state !== "running" && state !== "draining") return false;
        const status = storeHealth.status;
        return status.healthy || { unhealthy: status.reason };
      },
      ...distributorRoutes({
        hub,
        tokens,
        programs,
        store,
        settings: { maxClients: o.maxClients, taskLeaseMs: o.taskLeaseMs, maxRunTimeMs: o.maxRunTimeMs, region: o.region },
        link: () => ({
          distributorId: registration?.distributorId ?? "",
          managerPublicKey: registration?.managerPublicKey ?? new Uint8Array(0),
          managerGroupId: registration?.groupId ?? "",
          managerConnected: link?.connected ?? false,
          peers,
        }),
      }),
    });
    const url = server.url;

    link = new ManagerLink({
      urls: o.managerUrls,
      token: o.token,
      log,
      onRefused: (error) => gaveUp(new Error(`the manager refused this distributor's token (${Code[error.code]}: ${error.rawMessage})`, { cause: error })),
      announce: { publicUrl: o.publicUrl ?? url, region: o.region, capacity: o.capacity },
      defaults: {
        heartbeatIntervalMs: o.heartbeatIntervalMs,
        maxLeaseBatch: o.leaseBatch,
        maxReportBatch: o.reportBatch,
        maxLeaseWaitMs: o.leaseWaitMs,
      },
      knownCopies: async () => {
        const others = await store.otherProcesses();
        if (others > 0) {
          log.info({ others }, "other distributors share the store: registering without reconciling");
          return undefined;
        }
        const known = await store.knownCopyIds(MAX_RECONCILE_COPY_IDS);
        if (known === undefined) log.warn({ limit: MAX_RECONCILE_COPY_IDS }, "too many copies held and buffered to reconcile with the manager");
        return known;
      },
      async onRegistered(response) {
        registration = {
          distributorId: response.distributorId,
          groupId: response.groupId,
          managerId: response.managerId,
          managerPublicKey: response.publicKey,
        };
        peers = peersFromProto(response.peers);
        await store.saveRegistration(registration);
      },
    });
    const manager = link;

    const acked = new AckedCopies();
    const loops = new AbortController();
    // Leasing stops in two steps on close (see LeaseLoopSignals): no new Lease at once, the one in
    // flight cancelled after LEASE_ANSWER_WAIT_MS (or the close grace, if shorter).
    const leasing = { stop: new AbortController(), cancel: new AbortController() };
    const reporting = new AbortController();
    const reportDeps: ReportLoopDeps = {
      count: async () => (await store.counts()).results,
      pending: (limit) => store.pendingResults(limit),
      send: async (results, signal) => {
        const answer = await manager.call("report", (c) => c.report(reportRequestFromStored(results), { signal, timeoutMs: 60_000 }), signal);
        // Only results of copies this distributor did not lease (its data folder used with another
        // token?) are refused; they are dropped like the rest, since the manager will never take them.
        if (answer.refused > 0) log.warn({ refused: answer.refused, sent: results.length }, "manager refused results for copies leased to another distributor");
      },
      ack: async (copyIds) => {
        metrics.reported(await store.ackResults(copyIds));
        hub.acknowledged(copyIds);
        acked.add(copyIds, Date.now());
      },
      waitForResults: (ms, signal) => hub.resultsStored.wait(ms, signal),
      settings: () => ({ reportBatch: Math.min(o.reportBatch, manager.settings.maxReportBatch), flushIntervalMs: o.flushIntervalMs }),
      maxBatchBytes: MAX_REPORT_BYTES,
      log,
    };
    // Loops handle their own failures; this only keeps a bug in one from crashing the process.
    const guard = (name: string, loop: Promise<void>) =>
      loop.catch((error: unknown) => {
        log.error({ err: error, loop: name }, "loop stopped by an unexpected error");
      });
    const running = [
      guard("manager-link", manager.run(loops.signal)),
      guard("lease", runLeaseLoop(
        {
          lease: (maxCopies, waitMs, signals) => manager.leaseRaw(maxCopies, waitMs, signals),
          state: async () => ({ ...(await store.counts(hub.pausedProjects)), draining }),
          settings: () => ({
            lowWatermark: o.lowWatermark,
            highWatermark: o.highWatermark,
            capacity: o.capacity,
            capacityBytes: o.capacityBytes,
            leaseBatch: Math.min(o.leaseBatch, manager.settings.maxLeaseBatch),
            leaseWaitMs: Math.min(o.leaseWaitMs, manager.settings.maxLeaseWaitMs),
          }),
          add: async (tasks) => {
            const now = Date.now();
            const copies = tasks.flatMap((t) => leasedCopyFromTask(t, now) ?? []);
            metrics.leased(await store.addLeased(copies));
          },
          release: async (tasks) => {
            const copyIds = tasks.flatMap((t) => leasedCopyFromTask(t, 0)?.copyId ?? []);
            if (copyIds.length === 0) return 0;
            // Its own deadline: the loops' signal is already aborted when this runs during close.
            const signal = AbortSignal.timeout(RELEASE_TIMEOUT_MS);
            const answer = await manager.call("release", (c) => c.release({ copyIds }, { signal, timeoutMs: RELEASE_TIMEOUT_MS }), signal);
            return answer.released;
          },
          waitForDemand: (ms, signal) => demand.wait(ms, signal),
          log,
        },
        { stop: leasing.stop.signal, cancel: leasing.cancel.signal },
      )),
      guard("renew", runRenewLoop(
        {
          due: (nowMs, limit) => store.dueForRenewal(nowMs, limit),
          renew: async (copyIds, signal) =>
            renewalsFromProto(await manager.call("renew", (c) => c.renew({ copyIds }, { signal, timeoutMs: 30_000 }), signal), Date.now()),
          applyRenewed: (renewed) => store.renewLeases(renewed),
          drop: async (copyIds) => {
            await store.dropCopies({ copyIds });
          },
          intervalMs: o.renewCheckMs,
          batch: o.leaseBatch,
          log,
        },
        loops.signal,
      )),
      guard("heartbeat", runHeartbeatLoop(
        {
          load: async () => {
            const counts = await store.counts();
            return {
              heldCopies: counts.held,
              clients: hub.connectedClients,
              bufferedResults: counts.results,
              freeSlots: Math.max(0, o.maxClients - hub.connectedClients),
              endedSessions: hub.takeEndedSessions(),
              givenCopies: hub.takeGivenCopies(),
            };
          },
          send: async (load, signal) =>
            directivesFromProto(await manager.call("heartbeat", (c) => c.heartbeat(heartbeatRequest(load), { signal, timeoutMs: 10_000 }), signal)),
          apply: async (directives) => {
            if (directives.drain !== draining) {
              draining = directives.drain;
              log.info({ draining }, draining ? "manager asked to drain: leasing stopped" : "drain lifted: leasing resumed");
            }
            // Paused first: a slot freed by a cancel below must not take a copy of a project paused in the same answer.
            hub.setPausedProjects(directives.pausedProjectIds);
            if (directives.cancelledUnitIds.length > 0) {
              const dropped = await store.dropCopies({ unitIds: directives.cancelledUnitIds });
              if (dropped > 0) log.info({ dropped, units: directives.cancelledUnitIds.length }, "copies of cancelled units dropped");
            }
            peers = directives.peers;
          },
          intervalMs: () => manager.settings.heartbeatIntervalMs,
          log,
        },
        loops.signal,
      )),
    ];
    const reportLoop = guard("report", runReportLoop(reportDeps, reporting.signal));

    const sweepTimer = setInterval(() => {
      hub.sweep().catch((error: unknown) => log.error({ err: error }, "client lease sweep failed"));
    }, Math.max(50, Math.min(1_000, Math.floor(Math.min(o.taskLeaseMs, o.clientHeartbeatMs) / 4))));
    let lastAgePruneMs = Date.now();
    const pruneTimer = setInterval(() => {
      const now = Date.now();
      (async () => {
        await store.forgetAssignments(acked.takeUntil(now - REPORT_RETRY_WINDOW_MS));
        if (now - lastAgePruneMs >= o.assignmentRetentionMs / 10) {
          lastAgePruneMs = now;
          await store.pruneAssignments(now - o.assignmentRetentionMs);
        }
      })().catch((error: unknown) => {
        if (isStoreError(error)) log.debug({ reason: error.message }, "assignment prune failed");
        else log.error({ err: error }, "assignment prune failed");
      });
    }, PRUNE_EVERY_MS);
    sweepTimer.unref();
    pruneTimer.unref();

    state = "running";
    const counts = await store.counts();
    log.info(
      { url, managerUrls: o.managerUrls, distributorId: registration?.distributorId ?? "", dataDir: o.dataDir, held: counts.held, bufferedResults: counts.results },
      "distributor running",
    );

    let closing: Promise<void> | undefined;
    const runningServer = server;
    return {
      url,
      get distributorId() {
        return registration?.distributorId ?? "";
      },
      get state() {
        return state;
      },
      closed,
      close({ graceMs = o.closeGraceMs } = {}) {
        closing ??= (async () => {
          state = "draining";
          log.info({ graceMs }, "distributor closing");
          leasing.stop.abort();
          const cancelLease = setTimeout(() => leasing.cancel.abort(), Math.min(graceMs, LEASE_ANSWER_WAIT_MS));
          loops.abort();
          clearInterval(sweepTimer);
          clearInterval(pruneTimer);
          await hub.close(Math.min(graceMs, 1_000));
          await runningServer.close({ graceMs });
          reporting.abort();
          // The store stays open until the lease loop stored what a Lease in flight brought.
          await Promise.allSettled([...running, reportLoop]);
          clearTimeout(cancelLease);
          const deadline = Date.now() + graceMs;
          let flushed = 0;
          try {
            while (Date.now() < deadline) {
              const sent = await flushBatch(reportDeps, reportDeps.settings().reportBatch, AbortSignal.timeout(Math.max(1, deadline - Date.now())));
              if (sent === 0) break;
              flushed += sent;
            }
          } catch (error) {
            log.warn({ err: ConnectError.from(error).rawMessage }, "results left buffered for the next start");
          }
          const left = await store.counts();
          await store.close();
          state = refused ? "failed" : "stopped";
          settleClosed.resolve();
          log.info({ flushed, bufferedResults: left.results, held: left.held }, "distributor stopped");
        })().catch((error: unknown) => {
          state = "failed";
          log.error({ err: error }, "distributor close failed");
          throw error;
        });
        return closing;
      },
    };
  } catch (error) {
    state = "failed";
    await server?.close({ graceMs: 0 }).catch(() => undefined);
    await store.close();
    throw error;
  }
}
