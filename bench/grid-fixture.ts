import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@connectrpc/connect";
import { AdminService } from "../gen/disio/v1/admin_service_pb.js";
import { CLI, freePort, startDistributorProcess, startManagerProcess, startWorkerProcess, type GridProcess } from "./grid-processes.js";
import { createAdminClient } from "../cli/admin-client.js";
import { listAllResults } from "../cli/list-all-results.js";

/** A manager and a registered distributor as real processes in a temp folder, and the workers added to them. */
export interface GridServers {
  dir: string;
  adminToken: string;
  managerPort: number;
  distributorPort: number;
  distributorToken: string;
  manager: GridProcess;
  distributor: GridProcess;
  /** Every worker started with {@link GridServers.addWorker}, stopped by `close`. */
  workers: GridProcess[];
  admin: Client<typeof AdminService>;
  /**
   * Starts a `disio worker` with `processes` processes (logging to `worker-<k>.log`), with `extraArgs`
   * (e.g. `--state <dir>` of its own: workers sharing one are one volunteer).
   */
  addWorker(processes: number, extraArgs?: string[]): GridProcess;
  /** Restarts the manager on the same port and data folder. */
  restartManager(): Promise<void>;
  /** Restarts the distributor on the same port, data folder and flags. */
  restartDistributor(): Promise<void>;
  /** Stops everything and removes the folder (kept when `DISIO_TEST_KEEP` is set). */
  close(): Promise<void>;
}

/** A whole grid: {@link GridServers} and one worker. */
export interface GridFixture extends GridServers {
  worker: GridProcess;
}

/** Options of {@link startGridServers}. */
export interface GridServerOptions {
  /** Extra `disio distributor` flags, e.g. `["--client-heartbeat", "1s"]`. */
  distributorArgs?: string[];
  /** Prefix of the temp folder. Default `disio-e2e-`. */
  prefix?: string;
}

/** Starts a manager, registers a distributor and starts it; no worker yet. */
export async function startGridServers(options: GridServerOptions = {}): Promise<GridServers> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
  const dir = mkdtempSync(join(tmpdir(), options.prefix ?? "disio-e2e-"));
  const adminToken = "e2e-admin-token";
  const [managerPort, distributorPort] = [await freePort(), await freePort()];
  const managerArgs = { dataDir: join(dir, "manager"), port: managerPort, adminToken, logDir: dir };
  const manager = await startManagerProcess(managerArgs);
  const admin = createAdminClient({ manager: manager.url, token: adminToken });
  const { token: distributorToken } = await admin.createDistributor({ name: "e2e" });
  const distributorArgs = {
    dataDir: join(dir, "distributor"),
    port: distributorPort,
    managerUrl: manager.url,
    token: distributorToken,
    logDir: dir,
    extraArgs: options.distributorArgs,
  };
  const distributor = await startDistributorProcess(distributorArgs);
  const grid: GridServers = {
    dir,
    adminToken,
    managerPort,
    distributorPort,
    distributorToken,
    manager,
    distributor,
    workers: [],
    admin,
    addWorker(processes, extraArgs) {
      const worker = startWorkerProcess({ distributorUrl: grid.distributor.url, workers: processes, logDir: dir, name: `worker-${grid.workers.length}`, extraArgs });
      grid.workers.push(worker);
      return worker;
    },
    async restartManager() {
      grid.manager = await startManagerProcess(managerArgs);
    },
    async restartDistributor() {
      grid.distributor = await startDistributorProcess(distributorArgs);
    },
    async close() {
      // A frozen (SIGSTOP) worker's cluster processes would outlive it stopped: continue them first.
      for (const worker of grid.workers) worker.signalTree("SIGCONT");
      await Promise.all([...grid.workers.map((w) => w.stop("SIGKILL")), grid.distributor.stop("SIGKILL"), grid.manager.stop("SIGKILL")]);
      // DISIO_TEST_KEEP=1 keeps the logs and data of every grid for debugging.
      if (process.env.DISIO_TEST_KEEP) console.error(`grid kept in ${dir}`);
      else rmSync(dir, { recursive: true, force: true });
    },
  };
  return grid;
}

/** Starts a manager, registers a distributor, starts it and a worker with `workers` processes. */
export async function startGrid(workers = 2, options: GridServerOptions = {}): Promise<GridFixture> {
  const servers = await startGridServers(options);
  return Object.assign(servers, { worker: servers.addWorker(workers) });
}

/** Writes a program file into the grid folder and creates a project from it. */
export async function createProjectFrom(
  grid: GridServers,
  name: string,
  source: string,
  settings: { leaseTimeoutSeconds?: number; replication?: number; quorum?: number } = {},
): Promise<string> {
  const file = join(grid.dir, `${name}.js`);
  writeFileSync(file, source);
  const { project } = await grid.admin.createProject({
    name,
    programSource: source,
    leaseTimeout: settings.leaseTimeoutSeconds ? { seconds: BigInt(settings.leaseTimeoutSeconds), nanos: 0 } : undefined,
    replication: settings.replication,
    quorum: settings.quorum,
  });
  return project!.id;
}

/** Adds `n` units `{ n: i }` for i in [0, n) and returns their ids. */
export async function addNumberUnits(grid: GridServers, projectId: string, n: number): Promise<string[]> {
  const encoder = new TextEncoder();
  const ids: string[] = [];
  for (let start = 0; start < n; start += 5_000) {
    const units = Array.from({ length: Math.min(5_000, n - start) }, (_, k) => ({ input: encoder.encode(JSON.stringify({ n: start + k })) }));
    ids.push(...(await grid.admin.addUnits({ projectId, units })).unitIds);
  }
  return ids;
}

/** Done units of a project, per GetStats. */
export async function doneCount(grid: GridServers, projectId: string): Promise<number> {
  const { projects } = await grid.admin.getStats({ projectId });
  return Number(projects[0]?.counts?.done ?? 0n);
}

/** Waits until `predicate` holds, polling every 200 ms. */
export async function waitFor(what: string, predicate: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await predicate().catch(() => false))) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Every result row of a project: unit id → decoded output, failing on a unit listed twice. */
export async function resultsByUnit(grid: GridServers, projectId: string): Promise<Map<string, unknown>> {
  const decoder = new TextDecoder();
  const byUnit = new Map<string, unknown>();
  for await (const result of listAllResults(grid.admin, projectId)) {
    if (byUnit.has(result.unitId)) throw new Error(`unit ${result.unitId} has two results`);
    byUnit.set(result.unitId, JSON.parse(decoder.decode(result.output)));
  }
  return byUnit;
}

/** A counter or gauge of the distributor's /metrics (e.g. `disio_distributor_results_received_total`). */
export async function distributorMetric(grid: GridServers, name: string): Promise<number> {
  const text = await (await fetch(`${grid.distributor.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`distributor /metrics has no ${name}`);
  return Number(line.split(" ").at(-1));
}
