/**
 * The simulated clients of `load-clients.ts`, run in child processes (`--client-processes`) so that
 * the load generator is not the bottleneck: at 10,000 clients one process needed a core and more
 * than a GB. Each child simulates a share of the clients and tells its parent, once a second, what
 * it counted (see {@link SimulatorReport}); the parent starts and ends the measuring window.
 *
 * A simulated client behaves as the browser client does on HTTP/1.1: it joins, holds one Work
 * stream with one slot (its own connection), holds each task `thinkMs` (±50 %) and reports it over
 * its address's shared keep-alive connections, and sends an empty Report (a heartbeat) when it
 * sent none for the heartbeat interval the distributor asked at Join (else the distributor ends
 * its stream for silence). A broken stream is reopened after a short pause.
 */
import { Agent } from "node:http";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { DistributorService } from "../gen/disio/v1/distributor_service_pb.js";

/** What the parent tells a child. */
export type SimulatorCommand =
  | {
      type: "start";
      /** The distributors' URLs; client `i` uses `urls[i % urls.length]`. */
      urls: string[];
      /** The global indexes of this child's clients: `first` … `first + count - 1`. */
      first: number;
      count: number;
      /** Loopback addresses to connect from (127.0.1.1 …); client `i` uses the `i % addresses`th. */
      addresses: number;
      thinkMs: number;
      /** Over how long this child starts its clients, ms. */
      rampMs: number;
    }
  | { type: "measure"; on: boolean }
  | { type: "stop" };

/** What a child tells its parent once a second (counters since the start, latencies since the last report). */
export interface SimulatorReport {
  type: "stats";
  joined: number;
  /** Clients whose Work stream delivered its first message and is still open. */
  streaming: number;
  tasks: number;
  /** Failed calls (each retry counts). */
  errors: number;
  lastError: string;
  /** Freed slot → next task, ms, measured while measuring is on, since the last report. */
  latencies: number[];
  rssMb: number;
  /** CPU time used by this child so far, s. */
  cpuSeconds: number;
}

const REPORT_EVERY_MS = 1_000;
/** Codes of calls worth retrying (overload, a connection reset under the call). */
const RETRIED = [Code.Unavailable, Code.ResourceExhausted, Code.DeadlineExceeded, Code.Unknown, Code.Internal, Code.Aborted];

type DistributorClient = Client<typeof DistributorService>;

/** Runs one child's share of clients until the parent says stop. */
function run(start: Extract<SimulatorCommand, { type: "start" }>): void {
  const stats = { joined: 0, streaming: 0, tasks: 0, errors: 0, lastError: "" };
  let latencies: number[] = [];
  let measuring = false;
  // Each client's calls listen on a signal of its own, aborted at the stop: one signal shared by
  // every call made each call walk all the others' listeners (node's EventTarget checks for
  // duplicates), which took four fifths of this process's CPU at 5,000 clients.
  const stop = new AbortController();
  const clientStops = new Set<AbortController>();
  const streamAgent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const unaryAgent = new Agent({ keepAlive: true, maxSockets: 3 });
  const transports = new Map<string, { stream: DistributorClient; unary: DistributorClient }>();
  const clientsFor = (url: string, address: string) => {
    const key = `${url} ${address}`;
    let pair = transports.get(key);
    if (pair === undefined) {
      const make = (agent: Agent) =>
        createClient(DistributorService, createConnectTransport({ baseUrl: url, httpVersion: "1.1", nodeOptions: { agent, localAddress: address } }));
      pair = { stream: make(streamAgent), unary: make(unaryAgent) };
      transports.set(key, pair);
    }
    return pair;
  };
  const noteError = (error: unknown) => {
    stats.errors++;
    stats.lastError = ConnectError.from(error).message;
  };
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const retrying = async <T>(call: () => Promise<T>): Promise<T> => {
    for (;;) {
      try {
        return await call();
      } catch (error) {
        if (stop.signal.aborted) throw error;
        noteError(error);
        if (!RETRIED.includes(ConnectError.from(error).code)) throw error;
        await pause(200 + Math.random() * 800);
      }
    }
  };

  const simulate = async (index: number): Promise<void> => {
    const url = start.urls[index % start.urls.length]!;
    const { stream, unary } = clientsFor(url, `127.0.1.${1 + (index % start.addresses)}`);
    const own = new AbortController();
    clientStops.add(own);
    const signal = own.signal;
    const joined = await retrying(() => unary.join({ platform: "bench", cores: 1 }, { signal, timeoutMs: 30_000 }));
    stats.joined++;
    const headers = { authorization: `Bearer ${joined.sessionToken}` };
    const heartbeatMs = joined.heartbeatInterval === undefined ? 10_000 : Number(joined.heartbeatInterval.seconds) * 1000 + joined.heartbeatInterval.nanos / 1e6;
    const report = (request: Parameters<DistributorClient["report"]>[0]) =>
      retrying(() => unary.report(request, { headers, signal, timeoutMs: 30_000 }));
    // An empty Report when none went out for an interval, as the browser client sends.
    let heartbeat: NodeJS.Timeout | undefined;
    const armHeartbeat = () => {
      clearTimeout(heartbeat);
      heartbeat = setTimeout(() => void report({}).then(armHeartbeat, () => undefined), heartbeatMs);
    };
    signal.addEventListener("abort", () => clearTimeout(heartbeat), { once: true });
    let freedAt: number | undefined;
    while (!stop.signal.aborted) {
      let counted = false;
      armHeartbeat();
      try {
        for await (const message of stream.work({ slots: 1 }, { headers, signal })) {
          if (!counted) {
            counted = true;
            stats.streaming++;
          }
          for (const task of message.tasks) {
            if (freedAt !== undefined && measuring) latencies.push(performance.now() - freedAt);
            freedAt = undefined;
            await pause(start.thinkMs * (0.5 + Math.random()));
            if (stop.signal.aborted) return;
            await report({ results: [{ copyId: task.copyId, unitId: task.unitId, outcome: { case: "output", value: task.input } }] });
            armHeartbeat();
            freedAt = performance.now();
            stats.tasks++;
          }
        }
      } catch (error) {
        if (stop.signal.aborted) return;
        noteError(error);
      }
      if (counted) stats.streaming--;
      freedAt = undefined;
      await pause(500 + Math.random() * 1000);
    }
  };

  const sendStats = () => {
    const usage = process.cpuUsage();
    const report: SimulatorReport = {
      type: "stats",
      ...stats,
      latencies,
      rssMb: process.memoryUsage.rss() / 2 ** 20,
      cpuSeconds: (usage.user + usage.system) / 1e6,
    };
    latencies = [];
    process.send?.(report);
  };
  const reporter = setInterval(sendStats, REPORT_EVERY_MS);

  const running: Promise<void>[] = [];
  process.on("message", (command: SimulatorCommand) => {
    if (command.type === "measure") {
      // The last latencies of the window go with the report that closes it.
      if (!command.on) sendStats();
      measuring = command.on;
    } else if (command.type === "stop") {
      stop.abort();
      for (const own of clientStops) own.abort();
      clearInterval(reporter);
      sendStats();
      void Promise.race([Promise.allSettled(running), pause(5_000)]).then(() => {
        streamAgent.destroy();
        unaryAgent.destroy();
        process.exit(0);
      });
    }
  });
  void (async () => {
    const batch = 50;
    for (let k = 0; k < start.count && !stop.signal.aborted; k++) {
      running.push(simulate(start.first + k).catch(noteError));
      if (k % batch === batch - 1) await pause((start.rampMs * batch) / start.count);
    }
  })();
}

// Started in a session of its own: it must not outlive its parent.
process.once("disconnect", () => process.exit(0));
process.once("message", (command: SimulatorCommand) => {
  if (command.type === "start") run(command);
});
