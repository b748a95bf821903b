import type { Transport } from "@connectrpc/connect";
import { compressionGzip, createConnectTransport } from "@connectrpc/connect-node";
import { arch, platform, release } from "node:os";
import { createBinaryDistributorClient } from "../core/client/binary-distributor-client.js";
import { ClientHandler } from "../core/client/client-handler.js";
import type { ClientHandlerStats } from "../core/client/client-handler-events.js";
import { MAX_WORK_SLOTS } from "../core/client/client-handler-options.js";
import { inMemoryKeyMemory } from "../core/client/key-memory.js";
import { ClusterProcessor } from "./cluster-processor.js";
import { trustedKeysFile } from "./trusted-keys-file.js";
import { unitRunnerEntry } from "./unit-runner-entry-path.js";
import { loadOrCreateWorkerKey } from "./worker-key.js";
import { resolveWorkerOptions, type WorkerOptions } from "./worker-options.js";

/** A running `disio worker`. */
export interface RunningWorker {
  /**
   * Stops taking tasks, lets the runners finish the tasks in hand for up to `graceMs` (default
   * 10,000), reports them, kills the runners and resolves. Unfinished tasks are not reported: the
   * distributor re-issues them when their client lease ends.
   */
  stop(options?: { graceMs?: number }): Promise<void>;
  /** Results acknowledged by the distributor (ok / error) and tasks in hand. */
  stats(): ClientHandlerStats;
  /** Settles when the worker ended: resolves after stop, rejects when it gave up (e.g. `TrustKeyMismatchError`). */
  closed: Promise<void>;
}

/**
 * Starts the Node worker: forks the sandboxed unit runners, then joins the distributor and computes
 * until stopped. Resolves once the runners are up; joining is retried in the background with backoff.
 */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const resolved = resolveWorkerOptions(options);
  const log = resolved.log.child({ part: "worker" });
  const keys = resolved.trustedKeysFile === undefined ? inMemoryKeyMemory() : trustedKeysFile(resolved.trustedKeysFile);
  // A damaged trust store stops the worker here, before any runner starts, not at every Join.
  await keys.load();
  const processor = new ClusterProcessor({
    workers: resolved.workers,
    slotsPerWorker: resolved.slotsPerWorker,
    cpu: resolved.cpu,
    maxRunTimeMs: resolved.maxRunTimeMs,
    heapLimitMb: resolved.heapLimitMb,
    entry: unitRunnerEntry(),
    startTimeoutMs: 15_000,
    log: log.child({ component: "unit-runners" }),
  });

  const transports = new Map<string, Transport>();
  const handler = new ClientHandler(
    {
      distributorUrl: resolved.distributorUrl,
      platform: "node",
      userAgent: `node/${process.versions.node} ${platform()}/${release()} ${arch()}`,
      trustKey: resolved.trustKey,
      clientKey: resolved.clientKey ?? (resolved.homeDir === undefined ? "" : loadOrCreateWorkerKey(resolved.homeDir)),
      maxSlots: Math.min(MAX_WORK_SLOTS, Math.max(resolved.maxSlots, processor.slots)),
      reportBatch: resolved.reportBatch,
      reportDelayMs: resolved.reportDelayMs,
    },
    {
      processor,
      keys,
      connect: (baseUrl) => {
        let transport = transports.get(baseUrl);
        if (transport === undefined) {
          transport = createConnectTransport({ baseUrl, httpVersion: resolved.httpVersion, useBinaryFormat: true, pingIntervalMs: 15_000, acceptCompression: resolved.gzip ? [compressionGzip] : [] });
          transports.set(baseUrl, transport);
        }
        return createBinaryDistributorClient(transport);
      },
    },
  );
  await processor.start();
  handler.on("joined", (event) => log.info(event, "joined distributor"));
  handler.on("trusted", (event) => {
    if (event.how === "first-use") log.warn(event, "manager key trusted on first use: compare it with the public key its manager printed");
    else log.info(event, "manager key trusted");
  });
  handler.on("redirected", (event) => log.info(event, "join redirected"));
  handler.on("streamOpened", (event) => log.debug(event, "work stream opened"));
  handler.on("creditChanged", (event) => log.debug(event, "work credit changed"));
  handler.on("paused", () => log.info("distributor asked to pause"));
  handler.on("disconnected", (event) =>
    log.warn({ code: event.error.code, error: event.error.rawMessage, retryInMs: event.retryInMs, rejoin: event.rejoin }, "distributor connection lost"),
  );
  handler.on("reported", (event) => log.debug(event, "results reported"));
  handler.on("reportFailed", (event) =>
    log.warn({ code: event.error.code, error: event.error.rawMessage, results: event.results, dropped: event.dropped }, "report failed"),
  );
  handler.on("programRejected", (event) => log.error(event, "program refused"));
  handler.on("programUnavailable", (event) => log.warn(event, "program could not be fetched, its tasks handed back"));
  handler.on("returned", (event) => log.debug(event, "tasks handed back"));
  handler.on("heartbeatFailed", (event) => log.debug({ code: event.error.code, error: event.error.rawMessage }, "heartbeat failed"));
  handler.on("streamResynced", (event) => log.warn(event, "distributor counted tasks we do not hold, work stream reopened"));
  handler.on("failed", (event) => log.error({ err: event.error }, "worker gave up"));
  handler.start();
  log.info({ distributorUrl: resolved.distributorUrl, workers: resolved.workers, cpu: resolved.cpu }, "worker started");

  let stopping: Promise<void> | undefined;
  return {
    stop: (stopOptions) => {
      stopping ??= handler.stop(stopOptions).then(() => log.info(handler.stats(), "worker stopped"));
      return stopping;
    },
    stats: () => handler.stats(),
    closed: handler.closed,
  };
}
