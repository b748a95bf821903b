/**
 * Many clients at once: `--clients` simulated clients (default 10,000) on HTTP/1.1 Connect server
 * streams, as browsers connect, against one distributor or a pool over Redis. Each client joins,
 * opens its Work stream with one slot, holds each task `--think` ms (±50 %), reports it and waits
 * for the next. Measured while every client is connected, for `--seconds`: the time from a
 * Report's acknowledgement (the slot freed) to the next task on the stream (p50, p99, max), the
 * distributors' peak RSS, tasks per second and errors. Prints one JSON line; record it in
 * BENCHMARKS.md with the command.
 *
 * Clients' connections come from `--addresses` loopback addresses (127.0.1.x, at most 100 streams
 * each, under the distributor's per-address cap); each address reports over at most 3 shared
 * keep-alive connections.
 *
 * Run: `npm run build && node dist/bench/load-clients.js --clients 10000` (one distributor, SQLite), or
 * `… --distributors 2 --store redis://127.0.0.1:6379/0` (a pool).
 */
import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { Agent } from "node:http";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { DistributorService } from "../gen/disio/v1/distributor_service_pb.js";
import { createAdminClient } from "../cli/admin-client.js";
import { packageRoot } from "../cli/package-root.js";
import { removeRedisKeys } from "../distributor/store/redis/remove-redis-keys.js";
import { freePort, startDistributorProcess, startManagerProcess, type GridProcess } from "./grid-processes.js";

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "10000" },
    distributors: { type: "string", default: "1" },
    store: { type: "string", default: "sqlite" },
    think: { type: "string", default: "5000" },
    seconds: { type: "string", default: "60" },
    ramp: { type: "string", default: "30" },
    addresses: { type: "string", default: "100" },
  },
});
const clients = Number(values.clients);
const distributorCount = Number(values.distributors);
const store = values.store;
const thinkMs = Number(values.think);
const seconds = Number(values.seconds);
const rampSeconds = Number(values.ramp);
const addresses = Number(values.addresses);
if (distributorCount > 1 && store === "sqlite") throw new Error("a pool of distributors needs --store redis://…");

const dir = mkdtempSync(join(tmpdir(), "disio-load-"));
const adminToken = "load-token";
const prefix = `disio-bench:${randomUUID()}:`;
const processes: GridProcess[] = [];
/** Stops every process started here and removes what the run made, however it ends. */
async function cleanUp(): Promise<void> {
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

const streamAgent = new Agent({ keepAlive: true, maxSockets: Infinity });
const unaryAgent = new Agent({ keepAlive: true, maxSockets: 3 });
type DistributorClient = Client<typeof DistributorService>;
const transports = new Map<string, { stream: DistributorClient; unary: DistributorClient }>();
function clientsFor(url: string, address: string): { stream: DistributorClient; unary: DistributorClient } {
  const key = `${url} ${address}`;
  let pair = transports.get(key);
  if (pair === undefined) {
    const make = (agent: Agent) =>
      createClient(DistributorService, createConnectTransport({ baseUrl: url, httpVersion: "1.1", nodeOptions: { agent, localAddress: address } }));
    pair = { stream: make(streamAgent), unary: make(unaryAgent) };
    transports.set(key, pair);
  }
  return pair;
}

const stats = { joined: 0, streaming: 0, tasks: 0, errors: 0, lastError: "" };
let measuring = false;
const latencies: number[] = [];
const stop = new AbortController();
// Every client's stream listens on it.
setMaxListeners(0, stop.signal);

async function retrying<T>(call: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (stop.signal.aborted) throw error;
      const code = ConnectError.from(error).code;
      stats.errors++;
      stats.lastError = ConnectError.from(error).message;
      if (![Code.Unavailable, Code.ResourceExhausted, Code.DeadlineExceeded, Code.Unknown, Code.Internal].includes(code)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 800));
    }
  }
}

/** One simulated client: join, stream, hold each task, report it, measure the wait for the next one. */
async function simulate(index: number): Promise<void> {
  const url = distributors[index % distributors.length]!.url;
  const address = `127.0.1.${1 + (index % addresses)}`;
  const { stream, unary } = clientsFor(url, address);
  const { sessionToken } = await retrying(() => unary.join({ platform: "bench", cores: 1 }, { signal: stop.signal, timeoutMs: 30_000 }));
  stats.joined++;
  const headers = { authorization: `Bearer ${sessionToken}` };
  let freedAt: number | undefined;
  let counted = false;
  while (!stop.signal.aborted) {
    try {
      for await (const message of stream.work({ slots: 1 }, { headers, signal: stop.signal })) {
        if (!counted) {
          counted = true;
          stats.streaming++;
        }
        for (const task of message.tasks) {
          const now = performance.now();
          if (freedAt !== undefined && measuring) latencies.push(now - freedAt);
          freedAt = undefined;
          await new Promise((resolve) => setTimeout(resolve, thinkMs * (0.5 + Math.random())));
          if (stop.signal.aborted) return;
          await retrying(() =>
            unary.report(
              { results: [{ copyId: task.copyId, unitId: task.unitId, outcome: { case: "output", value: task.input } }] },
              { headers, signal: stop.signal, timeoutMs: 30_000 },
            ),
          );
          freedAt = performance.now();
          stats.tasks++;
        }
      }
    } catch (error) {
      if (stop.signal.aborted) return;
      stats.errors++;
      stats.lastError = ConnectError.from(error).message;
    }
    if (counted) {
      counted = false;
      stats.streaming--;
    }
    freedAt = undefined;
  }
}

const peakRssMb = distributors.map(() => 0);
const sampler = setInterval(() => distributors.forEach((d, i) => (peakRssMb[i] = Math.max(peakRssMb[i]!, d.rssMb()))), 1_000);
const started = performance.now();
const running: Promise<void>[] = [];
for (let i = 0; i < clients; i++) {
  running.push(simulate(i).catch((error: unknown) => {
    stats.errors++;
    stats.lastError = String(error);
  }));
  if (i % 100 === 99) await new Promise((resolve) => setTimeout(resolve, (rampSeconds * 1000 * 100) / clients));
}
const rampDeadline = performance.now() + 120_000;
while (stats.streaming < clients && performance.now() < rampDeadline) {
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  console.error(JSON.stringify({ atS: Math.round((performance.now() - started) / 1000), ...stats }));
}
const allConnectedAfterS = (performance.now() - started) / 1000;
const infos = await Promise.all(
  distributors.map((d) => retrying(() => createClient(DistributorService, createConnectTransport({ baseUrl: d.url, httpVersion: "1.1" })).getInfo({}, { timeoutMs: 10_000 }))),
);
const tasksBefore = stats.tasks;
measuring = true;
const measureStart = performance.now();
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
measuring = false;
const measuredS = (performance.now() - measureStart) / 1000;
const tasksPerSecond = (stats.tasks - tasksBefore) / measuredS;
clearInterval(sampler);
stop.abort();
await Promise.race([Promise.allSettled(running), new Promise((resolve) => setTimeout(resolve, 5_000))]);
streamAgent.destroy();
unaryAgent.destroy();
await cleanUp();

latencies.sort((a, b) => a - b);
const quantile = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN);
console.log(
  JSON.stringify({
    clients,
    distributors: distributorCount,
    store,
    thinkMs,
    streamingAtStart: stats.streaming,
    connectedPerDistributor: infos.map((info) => info.clients),
    allConnectedAfterS: Number(allConnectedAfterS.toFixed(1)),
    measuredS: Number(measuredS.toFixed(1)),
    tasksPerSecond: Math.round(tasksPerSecond),
    freedSlotToNextTaskMs: { samples: latencies.length, p50: quantile(0.5), p99: quantile(0.99), max: Math.round(latencies.at(-1) ?? NaN) },
    distributorPeakRssMb: peakRssMb.map((mb) => Math.round(mb)),
    loadGeneratorRssMb: Math.round(process.memoryUsage().rss / 1024 / 1024),
    errors: stats.errors,
    lastError: stats.lastError,
    machine: `${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  }),
);
process.exit(0);
