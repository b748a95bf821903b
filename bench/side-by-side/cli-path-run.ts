import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { packageRoot } from "../../cli/package-root.js";
import { CLI, cliNodeFlags, freePort, startDistributorProcess, startManagerProcess, startWorkerProcess, type GridProcess } from "../grid-processes.js";
import { binaryAdminClient } from "./binary-admin-client.js";
import { loadAverage1m } from "./proc-stat.js";

const run = promisify(execFile);

/** What the CLI path measured: rows/s of each command, timed as a user would, process start included. */
export interface CliPathRun {
  system: "disio-cli";
  units: number;
  /** `units add --file` into a grid with no worker. */
  addIdleRowsPerSecond: number;
  /** `units add --file` of a second project while the grid computes the first. */
  addWhileComputingRowsPerSecond: number;
  /** `results --out` of the finished first project, grid idle. */
  resultsOutRowsPerSecond: number;
  loadAverage: [number, number];
}

/**
 * The CLI path on real processes: `project create`, `units add --file` of an NDJSON file of `units`
 * lines (idle grid, then again while it computes), wait, `results --out`.
 */
export async function runCliPath(units: number, workers: number, dir: string): Promise<CliPathRun> {
  const adminToken = "bench-token";
  const parts: GridProcess[] = [];
  const loadBefore = loadAverage1m();
  try {
    const manager = await startManagerProcess({ dataDir: join(dir, "manager"), port: await freePort(), adminToken, logDir: dir });
    parts.push(manager);
    const admin = binaryAdminClient(manager.url, adminToken);
    const { token } = await admin.createDistributor({ name: "bench" });
    const distributor = await startDistributorProcess({ dataDir: join(dir, "distributor"), port: await freePort(), managerUrl: manager.url, token, logDir: dir });
    parts.push(distributor);
    const disio = async (...args: string[]) => {
      const started = performance.now();
      const { stdout } = await run(process.execPath, [...cliNodeFlags(), CLI, ...args, "--manager", manager.url, "--token", adminToken], { maxBuffer: 64 * 2 ** 20 });
      return { stdout, seconds: (performance.now() - started) / 1000 };
    };
    const file = join(dir, "inputs.ndjson");
    writeFileSync(file, Array.from({ length: units }, (_, k) => `{"i":${k}}\n`).join(""));
    const program = join(packageRoot(), "examples/trivial/work.js");
    const projectId = async (name: string) => (JSON.parse((await disio("project", "create", "--name", name, "--program", program, "--json")).stdout) as { id: string }).id;

    const first = await projectId("cli-first");
    const addIdle = await disio("units", "add", "--project", first, "--file", file);
    const worker = startWorkerProcess({ distributorUrl: distributor.url, workers, logDir: dir });
    parts.push(worker);
    const second = await projectId("cli-second");
    const addBusy = await disio("units", "add", "--project", second, "--file", file);
    for (;;) {
      const { project } = await admin.getProject({ id: first });
      if (Number(project!.counts!.done) >= units) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await worker.stop();
    const out = await disio("results", "--project", first, "--out", join(dir, "results.ndjson"));
    return {
      system: "disio-cli",
      units,
      addIdleRowsPerSecond: Math.round(units / addIdle.seconds),
      addWhileComputingRowsPerSecond: Math.round(units / addBusy.seconds),
      resultsOutRowsPerSecond: Math.round(units / out.seconds),
      loadAverage: [loadBefore, loadAverage1m()],
    };
  } finally {
    await Promise.all(parts.map((p) => p.stop()));
  }
}
