/**
 * End-to-end throughput of trivial units: lease → distributor → worker → durable result at the
 * manager, with every part a separate `disio` process on this machine. Run: `npm run bench`
 * (options: `-- --units 200000 --workers 2`). Prints one JSON summary line; record it in BENCHMARKS.md.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createAdminClient } from "../cli/admin-client.js";
import { packageRoot } from "../cli/package-root.js";
import { freePort, startDistributorProcess, startManagerProcess, startWorkerProcess } from "./grid-processes.js";

const { values } = parseArgs({
  options: {
    units: { type: "string", default: "200000" },
    workers: { type: "string", default: "2" },
    keep: { type: "boolean", default: false },
  },
});
const units = Number(values.units);
const workers = Number(values.workers);

const dir = mkdtempSync(join(tmpdir(), "disio-bench-"));
const adminToken = "bench-token";
const manager = await startManagerProcess({ dataDir: join(dir, "manager"), port: await freePort(), adminToken, logDir: dir });
const admin = createAdminClient({ manager: manager.url, token: adminToken });
const { token } = await admin.createDistributor({ name: "bench" });
const distributor = await startDistributorProcess({ dataDir: join(dir, "distributor"), port: await freePort(), managerUrl: manager.url, token, logDir: dir });
const programSource = readFileSync(join(packageRoot(), "examples/trivial/work.js"), "utf8");
const { project } = await admin.createProject({ name: "trivial", programSource });
const projectId = project!.id;

const encoder = new TextEncoder();
const addStarted = performance.now();
for (let start = 0; start < units; start += 20_000) {
  const batch = Array.from({ length: Math.min(20_000, units - start) }, (_, k) => ({ input: encoder.encode(`{"i":${start + k}}`) }));
  await admin.addUnits({ projectId, units: batch });
}
const addSeconds = (performance.now() - addStarted) / 1000;

let managerPeakRssMb = manager.rssMb();
let distributorPeakRssMb = distributor.rssMb();
const started = performance.now();
const worker = startWorkerProcess({ distributorUrl: distributor.url, workers, logDir: dir });
const samples: { t: number; done: number }[] = [];
for (;;) {
  const { projects } = await admin.getStats({ projectId });
  const done = Number(projects[0]?.counts?.done ?? 0n);
  samples.push({ t: (performance.now() - started) / 1000, done });
  managerPeakRssMb = Math.max(managerPeakRssMb, manager.rssMb());
  distributorPeakRssMb = Math.max(distributorPeakRssMb, distributor.rssMb());
  if (done >= units) break;
  if (samples.at(-1)!.t > 600) throw new Error(`only ${done}/${units} done after 600 s`);
  await new Promise((resolve) => setTimeout(resolve, 250));
}
const seconds = samples.at(-1)!.t;
// Sustained rate: between 10% and 90% done, leaving out start-up and the tail.
const from = samples.find((s) => s.done >= units * 0.1)!;
const to = samples.find((s) => s.done >= units * 0.9)!;
const summary = {
  units,
  workers,
  addUnitsPerSecond: Math.round(units / addSeconds),
  seconds: Number(seconds.toFixed(2)),
  unitsPerSecondOverall: Math.round(units / seconds),
  unitsPerSecondSustained: Math.round((to.done - from.done) / Math.max(0.001, to.t - from.t)),
  managerPeakRssMb: Math.round(managerPeakRssMb),
  distributorPeakRssMb: Math.round(distributorPeakRssMb),
  machine: `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
};
console.log(JSON.stringify(summary));
await Promise.all([worker.stop(), distributor.stop(), manager.stop()]);
if (values.keep) console.error(`logs and data kept in ${dir}`);
else rmSync(dir, { recursive: true, force: true });
