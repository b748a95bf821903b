/**
 * The browser client's units/s against the Node worker's, same machine, same threads, same project:
 * CPU-bound Monte Carlo π units (`examples/monte-carlo-pi/work.js`), a manager and a distributor as
 * separate `disio` processes, then in turn a `disio worker --workers T` and a headless Chromium page
 * embedding `client.js` with `data-threads=T` (each on a fresh project of the same units). The rate is
 * taken end to end from the first result to the last at the manager (GetStats polled every 50 ms);
 * `withStartMs` adds the client's start-up (process fork, or page load and program verification).
 * `cpuMsPerUnit` is the CPU time the client's process tree used (start-up included) per unit: on a
 * machine shared with other work the rates follow the CPU share each client gets, while CPU per unit
 * says what each costs.
 *
 * Run: `npm run build && node dist/bench/browser-vs-node.js [--units 1000] [--samples 1000000]
 * [--threads 2] [--rounds 3]`. Prints one JSON line per run and a summary line; record them in
 * BENCHMARKS.md.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { createAdminClient } from "../cli/admin-client.js";
import { packageRoot } from "../cli/package-root.js";
import { CHROMIUM_ARGS } from "./chromium-args.js";
import { freePort, processTree, startDistributorProcess, startManagerProcess, startWorkerProcess, treeCpuSeconds } from "./grid-processes.js";

const { values } = parseArgs({
  options: {
    units: { type: "string", default: "1000" },
    samples: { type: "string", default: "1000000" },
    threads: { type: "string", default: "2" },
    rounds: { type: "string", default: "3" },
  },
});
const units = Number(values.units);
const samples = Number(values.samples);
const threads = Number(values.threads);
const rounds = Number(values.rounds);

const dir = mkdtempSync(join(tmpdir(), "disio-bench-browser-"));
const adminToken = "bench-token";
const manager = await startManagerProcess({ dataDir: join(dir, "manager"), port: await freePort(), adminToken, logDir: dir });
const admin = createAdminClient({ manager: manager.url, token: adminToken });
const { token } = await admin.createDistributor({ name: "bench" });
const distributor = await startDistributorProcess({ dataDir: join(dir, "distributor"), port: await freePort(), managerUrl: manager.url, token, logDir: dir });
const programSource = readFileSync(join(packageRoot(), "examples/monte-carlo-pi/work.js"), "utf8");
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: CHROMIUM_ARGS });
const browserVersion = browser.version();
// Chromium is this process's child (Playwright's Browser does not expose its pid).
const browserPid = processTree(process.pid).find((pid) => /chromium/.test(readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0", 1)[0] ?? "")) ?? 0;
if (browserPid === 0) throw new Error("Chromium's process not found under this one");
const host = await startHost(`<!doctype html><title>bench</title><script src="${distributor.url}/client.js" data-threads="${threads}" async></script>`);

/** A fresh project of the same units (same seeds), so every run computes exactly the same work. */
async function project(name: string): Promise<string> {
  const { project } = await admin.createProject({ name, programSource });
  const encoder = new TextEncoder();
  const inputs = Array.from({ length: units }, (_, seed) => ({ input: encoder.encode(JSON.stringify({ seed, samples })) }));
  await admin.addUnits({ projectId: project!.id, units: inputs });
  return project!.id;
}

/** Polls GetStats until every unit is done; times of the first and the last result, ms. */
async function timeToDone(projectId: string, startedMs: number): Promise<{ firstMs: number; lastMs: number }> {
  let firstMs: number | undefined;
  for (;;) {
    const { projects } = await admin.getStats({ projectId });
    const done = Number(projects[0]?.counts?.done ?? 0n);
    const now = performance.now();
    if (done > 0) firstMs ??= now;
    if (done >= units) return { firstMs: firstMs ?? now, lastMs: now };
    if (now - startedMs > 900_000) throw new Error(`only ${done}/${units} done after 900 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function runNode(round: number): Promise<Run> {
  const projectId = await project(`node-${round}`);
  const startedMs = performance.now();
  // In a session of its own, like Chromium (see spawnDisio): each client is scheduled as one group.
  const worker = startWorkerProcess({ distributorUrl: distributor.url, workers: threads, logDir: dir, name: `worker-${round}`, detached: true });
  const times = await timeToDone(projectId, startedMs);
  const cpuSeconds = treeCpuSeconds(worker.child.pid!);
  await worker.stop();
  return summarise("node", round, startedMs, times, cpuSeconds);
}

async function runBrowser(round: number): Promise<Run> {
  const projectId = await project(`browser-${round}`);
  const page = await browser.newPage();
  const cpuBefore = treeCpuSeconds(browserPid);
  const startedMs = performance.now();
  await page.goto(host.url);
  const times = await timeToDone(projectId, startedMs);
  const cpuSeconds = treeCpuSeconds(browserPid) - cpuBefore;
  await page.evaluate(() => (window as unknown as { disio: { stop(): Promise<void> } }).disio.stop());
  await page.close();
  return summarise("browser", round, startedMs, times, cpuSeconds);
}

interface Run {
  client: "node" | "browser";
  round: number;
  unitsPerSecond: number;
  seconds: number;
  withStartMs: number;
  cpuMsPerUnit: number;
}

function summarise(client: Run["client"], round: number, startedMs: number, times: { firstMs: number; lastMs: number }, cpuSeconds: number): Run {
  const seconds = (times.lastMs - times.firstMs) / 1000;
  const run = {
    client,
    round,
    unitsPerSecond: Number(((units - 1) / seconds).toFixed(2)),
    seconds: Number(seconds.toFixed(2)),
    withStartMs: Math.round(times.lastMs - startedMs),
    cpuMsPerUnit: Number(((cpuSeconds * 1000) / units).toFixed(1)),
  };
  console.log(JSON.stringify(run));
  return run;
}

/** Serves the embedding page on its own origin (as a site would). */
async function startHost(html: string): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

const runs: Run[] = [];
try {
  // Alternating, so a drift of the machine's speed hits both alike.
  for (let round = 1; round <= rounds; round++) {
    runs.push(await runNode(round));
    runs.push(await runBrowser(round));
  }
} finally {
  await browser.close();
  host.server.close();
  await Promise.all([distributor.stop(), manager.stop()]);
  rmSync(dir, { recursive: true, force: true });
}
const median = (list: number[]) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] ?? 0;
const node = median(runs.filter((r) => r.client === "node").map((r) => r.unitsPerSecond));
const inBrowser = median(runs.filter((r) => r.client === "browser").map((r) => r.unitsPerSecond));
console.log(
  JSON.stringify({
    units,
    samples,
    threads,
    rounds,
    nodeUnitsPerSecond: node,
    browserUnitsPerSecond: inBrowser,
    browserShare: Number((inBrowser / node).toFixed(3)),
    nodeCpuMsPerUnit: median(runs.filter((r) => r.client === "node").map((r) => r.cpuMsPerUnit)),
    browserCpuMsPerUnit: median(runs.filter((r) => r.client === "browser").map((r) => r.cpuMsPerUnit)),
    machine: `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, Chromium ${browserVersion}`,
  }),
);
