/**
 * Many clients at once: `--clients` simulated clients (default 10,000) on HTTP/1.1 Connect server
 * streams, as browsers connect, against one distributor or a pool over Redis. Each client joins,
 * opens its Work stream with one slot, holds each task `--think` ms (±50 %), reports it, sends an
 * empty Report as heartbeat when it sent none for the distributor's heartbeat interval, and waits
 * for the next task. Measured once every client streams (or the ramp timed out), for `--seconds`:
 * the time from a Report's acknowledgement (the slot freed) to the next task on the stream (p50,
 * p99, max), tasks per second, the distributors' peak RSS and CPU time (per task and share of a
 * core) and the calls that failed. Prints a summary on stderr and one JSON line on stdout; record
 * them in BENCHMARKS.md with the command and the load average.
 *
 * The clients run in `--client-processes` child processes (see load-clients-simulator.ts). Their
 * connections come from `--addresses` loopback addresses (127.0.1.x, at most 100 streams each,
 * under the distributor's per-address cap); each address reports over at most 3 shared keep-alive
 * connections per child. The distributors are stopped with SIGTERM at the end, so that a profile
 * asked with `DISIO_GRID_NODE_FLAGS="--cpu-prof --cpu-prof-dir=…"` is written.
 *
 * Run: `npm run build && node dist/bench/load-clients.js --clients 10000` (one distributor, SQLite), or
 * `… --distributors 2 --store redis://127.0.0.1:6379/0` (a pool).
 */
import { fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { DistributorService } from "../gen/disio/v1/distributor_service_pb.js";
import { createAdminClient } from "../cli/admin-client.js";
import { packageRoot } from "../cli/package-root.js";
import { removeRedisKeys } from "../distributor/store/redis/remove-redis-keys.js";
import { freePort, startDistributorProcess, startManagerProcess, treeCpuSeconds, type GridProcess } from "./grid-processes.js";
import type { SimulatorCommand, SimulatorReport } from "./load-clients-simulator.js";

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "10000" },
    distributors: { type: "string", default: "1" },
    store: { type: "string", default: "sqlite" },
    think: { type: "string", default: "5000" },
    seconds: { type: "string", default: "60" },
    ramp: { type: "string", default: "30" },
    addresses: { type: "string", default: "100" },
    "client-processes": { type: "string", default: "2" },
  },
});
const clients = Number(values.clients);
const distributorCount = Number(values.distributors);
const store = values.store;
const thinkMs = Number(values.think);
const seconds = Number(values.seconds);
const rampSeconds = Number(values.ramp);
const addresses = Number(values.addresses);
const clientProcesses = Number(values["client-processes"]);
if (distributorCount > 1 && store === "sqlite") throw new Error("a pool of distributors needs --store redis://…");

const dir = mkdtempSync(join(tmpdir(), "disio-load-"));
const adminToken = "load-token";
const prefix = `disio-bench:${randomUUID()}:`;
const processes: GridProcess[] = [];
/** Stops every process started here and removes what the run made, however it ends. */
async function cleanUp(): Promise<void> {
  const stopped = Promise.all(processes.map((p) => p.stop("SIGTERM")));
  await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, 20_000))]);
  await Promise.all(processes.map((p) => p.stop("SIGKILL")));
  if (store !== "sqlite") await removeRedisKeys(store, prefix).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}
process.on("uncaughtException", (error) => {
  console.error(error);
  void cleanUp().finally(() => process.exit(1));
});
process.on("unhandledRejection", (error) => {
  console.error(error);
  void cleanUp().finally(() => process.exit(1));
});
const manager = await startManagerProcess({ dataDir: join(dir, "manager"), port: await freePort(), adminToken, logDir: dir });
processes.push(manager);
const admin = createAdminClient({ manager: manager.url, token: adminToken });
const { token } = await admin.createDistributor({ name: "load" });
const distributors: GridProcess[] = [];
for (let i = 0; i < distributorCount; i++) {
  const storeArgs = store === "sqlite" ? [] : ["--store", store, "--redis-prefix", prefix];
  const distributor = await startDistributorProcess({
    dataDir: join(dir, `distributor-${i}`),
    port: await freePort(),
    managerUrl: manager.url,
    token,
    logDir: dir,
    extraArgs: [...storeArgs, "--max-clients", String(clients), "--max-connections", String(clients + 1_000)],
    // Its own session, so that with the kernel's autogroup scheduling it does not share one slice
    // of the CPU with the simulated clients (each child gets its own session too).
    detached: true,
  });
  distributors.push(distributor);
  processes.push(distributor);
}
const programSource = readFileSync(join(packageRoot(), "examples/trivial/work.js"), "utf8");
const { project } = await admin.createProject({ name: "load", programSource });
const units = clients * Math.ceil((seconds + rampSeconds) * 1000 / (thinkMs / 2) + 2);
const encoder = new TextEncoder();
for (let start = 0; start < units; start += 20_000) {
  const batch = Array.from({ length: Math.min(20_000, units - start) }, (_, k) => ({ input: encoder.encode(`{"i":${start + k}}`) }));
  await admin.addUnits({ projectId: project!.id, units: batch });
}

// The clients run in child processes, each with its share.
const simulatorPath = join(dirname(fileURLToPath(import.meta.url)), "load-clients-simulator.js");
const latest: SimulatorReport[] = [];
let latencies: number[] = [];
const simulators = Array.from({ length: clientProcesses }, (_, k) => {
  const child = fork(simulatorPath, [], { stdio: ["ignore", "inherit", "inherit", "ipc"], detached: true });
  child.on("message", (report: SimulatorReport) => {
    latest[k] = report;
    for (const ms of report.latencies) latencies.push(ms);
  });
  const first = Math.floor((clients * k) / clientProcesses);
  const count = Math.floor((clients * (k + 1)) / clientProcesses) - first;
  const command: SimulatorCommand = { type: "start", urls: distributors.map((d) => d.url), first, count, addresses, thinkMs, rampMs: rampSeconds * 1000 };
  child.send(command);
  return child;
});
const tell = (command: SimulatorCommand) => simulators.forEach((child) => child.connected && child.send(command));
const sum = (field: "joined" | "streaming" | "tasks" | "errors") => latest.reduce((total, report) => total + (report?.[field] ?? 0), 0);
const lastError = () => latest.map((report) => report?.lastError).filter(Boolean).at(-1) ?? "";

const peakRssMb = distributors.map(() => 0);
const sampler = setInterval(() => distributors.forEach((d, i) => (peakRssMb[i] = Math.max(peakRssMb[i]!, d.rssMb()))), 1_000);
const started = performance.now();
const progress = () =>
  console.error(
    JSON.stringify({
      atS: Math.round((performance.now() - started) / 1000),
      joined: sum("joined"),
      streaming: sum("streaming"),
      tasks: sum("tasks"),
      errors: sum("errors"),
      distributorRssMb: distributors.map((d) => Math.round(d.rssMb())),
      lastError: lastError(),
    }),
  );
const rampDeadline = performance.now() + rampSeconds * 1000 + 120_000;
do {
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  progress();
} while (sum("streaming") < clients && performance.now() < rampDeadline);
const allConnectedAfterS = (performance.now() - started) / 1000;
const streamingAtStart = sum("streaming");
const infos = await Promise.all(
  distributors.map((d) =>
    createClient(DistributorService, createConnectTransport({ baseUrl: d.url, httpVersion: "1.1" }))
      .getInfo({}, { timeoutMs: 30_000 })
      .catch(() => undefined),
  ),
);
const tasksBefore = sum("tasks");
const errorsBefore = sum("errors");
const cpuBefore = distributors.map((d) => treeCpuSeconds(d.child.pid!));
latencies = [];
tell({ type: "measure", on: true });
const measureStart = performance.now();
const measuring = setInterval(progress, 5_000);
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
clearInterval(measuring);
tell({ type: "measure", on: false });
const measuredS = (performance.now() - measureStart) / 1000;
const cpuSeconds = distributors.map((d, i) => treeCpuSeconds(d.child.pid!) - cpuBefore[i]!);
// The report that closes each child's window.
await new Promise((resolve) => setTimeout(resolve, 1_500));
const tasks = sum("tasks") - tasksBefore;
const streamingAtEnd = sum("streaming");
const failedCalls = sum("errors") - errorsBefore;
clearInterval(sampler);
tell({ type: "stop" });
await Promise.race([Promise.all(simulators.map((child) => new Promise((resolve) => child.once("exit", resolve)))), new Promise((resolve) => setTimeout(resolve, 10_000))]);
const simulatorRssMb = latest.map((report) => Math.round(report?.rssMb ?? 0));
const simulatorCpuSeconds = latest.map((report) => Math.round(report?.cpuSeconds ?? 0));
simulators.forEach((child) => child.kill("SIGKILL"));
await cleanUp();

latencies.sort((a, b) => a - b);
const quantile = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN);
const result = {
  clients,
  distributors: distributorCount,
  store,
  thinkMs,
  streamingAtStart,
  streamingAtEnd,
  connectedPerDistributor: infos.map((info) => info?.clients ?? null),
  allConnectedAfterS: Number(allConnectedAfterS.toFixed(1)),
  measuredS: Number(measuredS.toFixed(1)),
  tasksPerSecond: Math.round(tasks / measuredS),
  freedSlotToNextTaskMs: { samples: latencies.length, p50: quantile(0.5), p99: quantile(0.99), max: Math.round(latencies.at(-1) ?? NaN) },
  distributorPeakRssMb: peakRssMb.map((mb) => Math.round(mb)),
  distributorCpuPerTaskMs: cpuSeconds.map((s) => Number(((s * 1000 * distributorCount) / Math.max(tasks, 1)).toFixed(2))),
  distributorCpuShare: cpuSeconds.map((s) => Number((s / measuredS).toFixed(2))),
  failedCalls,
  lastError: lastError(),
  simulatorRssMb,
  simulatorCpuSeconds,
  loadAverage: loadavg().map((l) => Number(l.toFixed(1))),
  machine: `${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
};
const f = result.freedSlotToNextTaskMs;
console.error(
  [
    `clients streaming: ${streamingAtStart} of ${clients} at the start, ${streamingAtEnd} at the end (all streaming after ${result.allConnectedAfterS} s)`,
    `tasks/s: ${result.tasksPerSecond} over ${result.measuredS} s`,
    `freed slot → next task: p50 ${f.p50} ms, p99 ${f.p99} ms, max ${f.max} ms (${f.samples} samples)`,
    `distributor peak RSS: ${result.distributorPeakRssMb.join(" / ")} MB; CPU ${result.distributorCpuShare.join(" / ")} of a core, ${result.distributorCpuPerTaskMs.join(" / ")} ms per task`,
    `failed calls while measuring: ${failedCalls}${failedCalls > 0 ? ` (last: ${result.lastError})` : ""}`,
    `load average: ${result.loadAverage.join(" ")}`,
  ].join("\n"),
);
console.log(JSON.stringify(result));
process.exit(0);
