import { availableParallelism, homedir } from "node:os";
import { join } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { parseStoreUrl } from "../../distributor/store/store-url.js";
import { TrustKeyMismatchError } from "../../core/client/errors.js";
import { DEFAULT_MANAGER_STORE, MANAGER_STORES, parseManagerStoreUrl } from "../../manager/store/store-url.js";
import { DEFAULT_DISTRIBUTOR_DATA, DEFAULT_MANAGER_DATA, DEFAULT_WORKER_STATE, TRUSTED_KEYS_FILE } from "../defaults.js";
import { untilSignal } from "../until-signal.js";
import { countOf, duration, wholeNumber } from "../option-parsers.js";

function port(text: string): number {
  const value = wholeNumber(text);
  if (value > 65_535) throw new InvalidArgumentError("expected a port number 0-65535");
  return value;
}

function fraction(text: string): number {
  const value = Number(text);
  if (!(value > 0 && value <= 1)) throw new InvalidArgumentError("expected a fraction in (0, 1], e.g. 0.5");
  return value;
}

/** A manager's `--store`: a backend that is built, else one clear error line, not a silent fallback. */
function managerStore(text: string): string {
  try {
    parseManagerStoreUrl(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return text;
}

/** A distributor's `--store`: `sqlite` or `redis://host:port/db`. */
function distributorStore(text: string): string {
  try {
    parseStoreUrl(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return text;
}

/** `disio manager`: the source of truth, serving AdminService and ManagerService on one port. */
export function managerCommand(): Command {
  return new Command("manager")
    .description("run a manager (AdminService + ManagerService, the web of record)")
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("--port <port>", "port to listen on", port, 7100)
    .option("--data <dir>", "data folder (the store when kept there, signing key, admin token)", DEFAULT_MANAGER_DATA)
    .option("--store <store>", `store: ${MANAGER_STORES} (in the data folder)`, managerStore, DEFAULT_MANAGER_STORE)
    .option("--admin-token <token>", "admin token (env DISIO_ADMIN_TOKEN; else generated into the data folder)")
    .option("--signing-key <file>", "Ed25519 private key (PEM) that signs programs, kept outside the data folder (default: <data>/signing-key.pem, created)")
    .action(async (flags: { host: string; port: number; data: string; store: string; adminToken?: string; signingKey?: string }) => {
      const log = (await import("../logger.js")).createCliLogger();
      // Loaded only by the command that runs it: every other command starts faster without them.
      const { startManager } = await import("../../manager/index.js");
      const manager = await startManager({
        host: flags.host,
        port: flags.port,
        dataDir: flags.data,
        store: flags.store,
        adminToken: flags.adminToken ?? process.env.DISIO_ADMIN_TOKEN,
        signingKeyFile: flags.signingKey,
        log,
      });
      const signal = await untilSignal();
      log.info({ signal }, "manager stopping");
      await manager.close({ graceMs: 5_000 });
    });
}

/** `disio distributor`: the edge, leasing from managers and streaming tasks to clients. */
export function distributorCommand(): Command {
  return new Command("distributor")
    .description("run a distributor (DistributorService for clients; leases from managers)")
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("--port <port>", "port to listen on", port, 7200)
    .requiredOption("--manager <urls>", "manager URL(s), comma-separated")
    .requiredOption("--token <token>", "this distributor's token (from `disio distributors add`)")
    .option("--data <dir>", "data folder (SQLite store)", DEFAULT_DISTRIBUTOR_DATA)
    .option("--store <store>", "store: sqlite, or redis://host:port/db (distributors over one Redis and prefix form a pool)", distributorStore, "sqlite")
    .option("--redis-prefix <prefix>", "key prefix in a Redis store; distributors sharing it share copies and results", "disio:")
    .option("--redis-wait-aof", "acknowledge client results only once Redis fsynced them to its AOF (WAITAOF)", false)
    .option("--public-url <url>", "where clients reach this distributor (default: the listen URL)")
    .option("--region <region>", "region label, e.g. eu-west", "")
    .option("--client-heartbeat <duration>", "how often a client must report; silent for 3 intervals, it no longer counts and its tasks go to others (default 10s)", duration)
    .option("--max-clients <n>", "most clients with an open Work stream; more are redirected to a peer (default 10,000)", countOf)
    .option("--max-connections <n>", "most open connections, all callers (default 10,000)", countOf)
    .option("--max-connections-per-address <n>", "most open connections from one address (default 256)", countOf)
    .option(
      "--outage-extra-copies <n>",
      "while no manager answers and no fresh copy is left, re-serve held units to other clients as up to <n> extra copies each, counted by the manager when it is back; 0: off (default 2)",
      wholeNumber,
    )
    .action(async (flags: {
      host: string;
      port: number;
      manager: string;
      token: string;
      data: string;
      store: string;
      redisPrefix: string;
      redisWaitAof: boolean;
      publicUrl?: string;
      region: string;
      clientHeartbeat?: number;
      maxClients?: number;
      maxConnections?: number;
      maxConnectionsPerAddress?: number;
      outageExtraCopies?: number;
    }) => {
      const log = (await import("../logger.js")).createCliLogger();
      const managerUrls = flags.manager.split(",").map((url) => url.trim()).filter(Boolean);
      const { startDistributor } = await import("../../distributor/index.js");
      const distributor = await startDistributor({
        host: flags.host,
        port: flags.port,
        managerUrls,
        token: flags.token,
        dataDir: flags.data,
        store: flags.store,
        redisPrefix: flags.redisPrefix,
        redisWaitAof: flags.redisWaitAof,
        publicUrl: flags.publicUrl,
        region: flags.region,
        clientHeartbeatMs: flags.clientHeartbeat,
        maxClients: flags.maxClients,
        maxConnections: flags.maxConnections,
        maxConnectionsPerAddress: flags.maxConnectionsPerAddress,
        outageExtraCopies: flags.outageExtraCopies,
        log,
      });
      // `closed` rejects when the manager refused the token: stop and exit non-zero with that reason.
      const stopped = await Promise.race([untilSignal(), distributor.closed.then(() => undefined, (error: Error) => error)]);
      if (stopped instanceof Error) {
        await distributor.close({ graceMs: 1_000 });
        throw stopped;
      }
      log.info({ signal: stopped }, "distributor stopping");
      await distributor.close({ graceMs: 5_000 });
    });
}

/** `disio worker`: computes units on this machine, one process per core. */
export function workerCommand(): Command {
  return new Command("worker")
    .description("compute work-units on this machine (node:cluster, one process per core)")
    .requiredOption("--distributor <url>", "distributor URL")
    .option("--workers <n>", "worker processes (default: one per core)", countOf, availableParallelism())
    .option("--trust <key>", "only run programs signed by this manager key (base64, as `disio manager` prints it); also accepts a rotated key")
    .option("--state <dir>", "where the worker remembers the manager keys it trusted (env DISIO_HOME; default ~/.disio)")
    .option("--cpu <fraction>", "share of each core to use, e.g. 0.5", fraction, 1)
    .action(async (flags: { distributor: string; workers: number; trust?: string; state?: string; cpu: number }) => {
      const log = (await import("../logger.js")).createCliLogger();
      const stateDir = flags.state ?? process.env.DISIO_HOME ?? join(homedir(), DEFAULT_WORKER_STATE);
      // startWorker logs "worker started" and, once stopped, "worker stopped" with its counts.
      const { startWorker } = await import("../../client-node/index.js");
      const worker = await startWorker({
        distributorUrl: flags.distributor,
        workers: flags.workers,
        trustKey: flags.trust,
        trustedKeysFile: join(stateDir, TRUSTED_KEYS_FILE),
        cpu: flags.cpu,
        homeDir: stateDir,
        log,
      });
      // `closed` rejects when the worker gave up (the command then fails); it resolves only after stop().
      const signal = await Promise.race([untilSignal(), worker.closed.then(() => undefined, (error: unknown) => Promise.reject(refusalLine(error)))]);
      if (signal) {
        log.info({ signal }, "worker stopping: finishing units in hand");
        await worker.stop({ graceMs: 10_000 });
      }
    });
}

/** A trust refusal as the one line a volunteer needs: both keys, and how to accept a rotated key. */
function refusalLine(error: unknown): unknown {
  if (!(error instanceof TrustKeyMismatchError)) return error;
  const { distributorUrl, source, trustedKey, announcedKey } = error;
  const accept = `if the grid's operator rotated its key (compare it with the key \`disio manager\` printed), run again with --trust ${announcedKey}`;
  return new Error(
    source === "pinned"
      ? `refusing ${distributorUrl}: it announces manager key ${announcedKey}, not the --trust key ${trustedKey}; nothing was run`
      : `refusing ${distributorUrl}: its manager key changed from ${trustedKey} (trusted before) to ${announcedKey}; nothing was run; ${accept}`,
  );
}
