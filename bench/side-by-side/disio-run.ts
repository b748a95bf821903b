import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../cli/package-root.js";
import { encodeAddUnitsRequest } from "../../sdk/add-units-request-encoder.js";
import { freePort, startDistributorProcess, startManagerProcess, startWorkerProcess, type GridProcess } from "../grid-processes.js";
import { binaryAdminClients } from "./binary-admin-client.js";
import { JobTally } from "./job-tally.js";
import { measuredChildren, measuredPid, measuredSelf, ResourceWatch } from "./measured-processes.js";
import { loadAverage1m } from "./proc-stat.js";
import { submitBatches } from "./submit-batches.js";
import type { RunOptions, SystemRun } from "./system-run.js";

/** Units computed before timing starts, so connections, the program cache and JIT are warm. */
const WARM_UP_UNITS = 200;

/**
 * dis.io on its embedded stores, every part a real `disio` process: AddUnits of `batchSize` units
 * through the API while a `workers`-process `disio worker` computes, results taken from WatchResults.
 */
export async function runDisio(options: RunOptions): Promise<SystemRun> {
  const adminToken = "bench-token";
  const parts: GridProcess[] = [];
  try {
    const manager = await startManagerProcess({ dataDir: join(options.dir, "manager"), port: await freePort(), adminToken, logDir: options.dir });
    parts.push(manager);
    const clients = binaryAdminClients(manager.url, adminToken);
    const admin = clients.admin;
    const { token } = await admin.createDistributor({ name: "bench" });
    const distributor = await startDistributorProcess({ dataDir: join(options.dir, "distributor"), port: await freePort(), managerUrl: manager.url, token, logDir: options.dir });
    parts.push(distributor);
    const worker = startWorkerProcess({ distributorUrl: distributor.url, workers: options.workers, logDir: options.dir });
    parts.push(worker);
    const programSource = readFileSync(join(packageRoot(), "examples/trivial/work.js"), "utf8");

    const warmUp = await admin.createProject({ name: "warm-up", programSource });
    await runProject(clients, warmUp.project!.id, new JobTally(WARM_UP_UNITS), options.batchSize);

    const { project } = await admin.createProject({ name: "measured", programSource });
    const tally = new JobTally(options.jobs);
    const loadBefore = loadAverage1m();
    const watch = new ResourceWatch([
      measuredPid("manager", manager.child.pid!),
      measuredPid("distributor", distributor.child.pid!),
      measuredPid("worker primary", worker.child.pid!),
      measuredChildren("worker processes", worker.child.pid!),
      measuredSelf("submitter"),
    ]);
    await runProject(clients, project!.id, tally, options.batchSize, options.ratePerSecond);
    const processes = watch.stop(options.jobs);
    return { system: "disio", workers: options.workers, offeredPerSecond: options.ratePerSecond, loadAverage: [loadBefore, loadAverage1m()], ...tally.report(), processes };
  } finally {
    await Promise.all(parts.map((p) => p.stop()));
  }
}

/**
 * Adds the tally's units to a project while consuming WatchResults, until every unit has its result.
 * Both go through the SDK's hand codecs (`encodeAddUnitsRequest`, the result-pages client), as the
 * SDK's `Job.add` and `Job.results` do; no request id, so the manager stores each batch as before.
 */
async function runProject(clients: ReturnType<typeof binaryAdminClients>, projectId: string, tally: JobTally, batchSize: number, ratePerSecond?: number): Promise<void> {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const stop = new AbortController();
  const watching = (async () => {
    for await (const batch of clients.resultPages.watchResults({ projectId }, { signal: stop.signal })) {
      for (const result of batch.results) {
        const input = decoder.decode(result.input);
        tally.result((JSON.parse(input) as { i: number }).i, decoder.decode(result.output) === input);
      }
    }
  })().catch((error: unknown) => {
    if (!stop.signal.aborted) throw error;
  });
  const add = async (from: number, to: number) => {
    const inputs = Array.from({ length: to - from }, (_, k) => encoder.encode(`{"i":${from + k}}`));
    await clients.admin.addUnits(encodeAddUnitsRequest(projectId, "", inputs));
  };
  await submitBatches(tally, batchSize, add, ratePerSecond);
  await Promise.race([tally.allDone, watching.then(() => Promise.reject(new Error("WatchResults ended before every result")))]);
  stop.abort();
  await watching;
}
