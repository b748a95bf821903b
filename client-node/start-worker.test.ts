import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildRunnerIfStale, errorOf, jsonTasks, makeKeys, outputOf, signedProgram, startConnectionCounter, startFakeDistributor, until, type Keys } from "../test/worker-fixture.js";
import { startWorker, type RunningWorker } from "./index.js";

const log = pino({ level: process.env.TEST_LOG ?? "silent" });

beforeAll(buildRunnerIfStale, 120_000);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(source: string, options: { signer?: Keys; trust?: boolean; maxRunTimeMs?: number; workers?: number; cpu?: number } = {}) {
  const keys = makeKeys();
  const program = signedProgram(source, options.signer ?? keys);
  const distributor = await startFakeDistributor({ announcedKey: keys.publicKey, programs: [program] });
  cleanups.push(distributor.close);
  const worker: RunningWorker = await startWorker({
    distributorUrl: distributor.url,
    workers: options.workers ?? 2,
    trustKey: options.trust ? Buffer.from(keys.publicKey).toString("base64") : undefined,
    maxRunTimeMs: options.maxRunTimeMs ?? 10_000,
    heapLimitMb: 128,
    cpu: options.cpu,
    reportDelayMs: 10,
    log,
  });
  cleanups.push(() => worker.stop({ graceMs: 500 }));
  return { distributor, worker, program };
}

describe("startWorker", () => {
  it("computes tasks on its runners and reports the outputs in batches", async () => {
    const { distributor, worker, program } = await setup("export default function work(input) { return { square: input.n * input.n }; }");
    const inputs = Array.from({ length: 500 }, (_, n) => ({ n }));
    distributor.state.queue.push(...jsonTasks(program, inputs));
    await until(() => worker.stats().completed === 500);
    const results = distributor.results();
    expect(results.size).toBe(500);
    for (const n of [0, 7, 499]) expect(outputOf(results.get(`copy-${n}`))).toEqual({ square: n * n });
    expect(distributor.state.reportCalls.length).toBeLessThan(250);
    expect(Math.max(...distributor.state.reportCalls.map((call) => call.length))).toBeGreaterThan(1);
    expect(worker.stats()).toEqual({ completed: 500, failed: 0, inFlight: 0 });
  });

  it("reports a throwing program as an error outcome and keeps computing later units", async () => {
    const { distributor, worker, program } = await setup(
      "export default function work(input) { if (input.fail) throw new Error('boom ' + input.n); return input.n; }",
    );
    distributor.state.queue.push(...jsonTasks(program, [{ n: 0 }, { n: 1, fail: true }, { n: 2 }, { n: 3, fail: true }, { n: 4 }]));
    await until(() => worker.stats().completed + worker.stats().failed === 5);
    const results = distributor.results();
    expect(outputOf(results.get("copy-0"))).toBe(0);
    expect(errorOf(results.get("copy-1"))).toEqual({ kind: "throw", message: "Error: boom 1" });
    expect(outputOf(results.get("copy-4"))).toBe(4);
    expect(worker.stats()).toMatchObject({ completed: 3, failed: 2 });
  });

  it("kills a unit past its wall-clock limit, reports a timeout and computes later units on a new runner", async () => {
    const { distributor, worker, program } = await setup(
      "export default function work(input) { if (input.loop) { for (;;) {} } return input.n; }",
      { maxRunTimeMs: 300, workers: 1 },
    );
    distributor.state.queue.push(...jsonTasks(program, [{ n: 0 }, { n: 1, loop: true }, { n: 2 }, { n: 3 }]));
    await until(() => worker.stats().completed + worker.stats().failed === 4);
    const results = distributor.results();
    expect(errorOf(results.get("copy-1"))?.kind).toBe("timeout");
    expect(errorOf(results.get("copy-1"))?.message).toMatch(/300 ms/);
    expect([0, 2, 3].map((n) => outputOf(results.get(`copy-${n}`)))).toEqual([0, 2, 3]);
  });

  it("reports a runner that dies as a crash and replaces it", async () => {
    const { distributor, worker, program } = await setup(
      "export default function work(input) { if (input.exit) process.exit(3); return input.n; }",
      { workers: 1 },
    );
    distributor.state.queue.push(...jsonTasks(program, [{ n: 0, exit: true }, { n: 1 }, { n: 2 }]));
    await until(() => worker.stats().completed + worker.stats().failed === 3);
    const results = distributor.results();
    expect(errorOf(results.get("copy-0"))).toEqual({ kind: "crash", message: "the unit runner died (exit code 3, signal null)" });
    expect([1, 2].map((n) => outputOf(results.get(`copy-${n}`)))).toEqual([1, 2]);
  });

  it("reports a unit that exhausts the runner's heap limit as a crash", async () => {
    const { distributor, worker, program } = await setup(
      "export default function work(input) { if (input.hog) { const hoard = []; for (;;) hoard.push(new Array(1e6).fill(input.n)); } return input.n; }",
      { workers: 1 },
    );
    distributor.state.queue.push(...jsonTasks(program, [{ n: 0, hog: true }, { n: 1 }]));
    await until(() => worker.stats().completed + worker.stats().failed === 2, 20_000);
    const results = distributor.results();
    expect(errorOf(results.get("copy-0"))?.kind).toBe("crash");
    expect(outputOf(results.get("copy-1"))).toBe(1);
  }, 30_000);

  it("throttles to its CPU fraction by idling after each unit", async () => {
    const { distributor, worker, program } = await setup(
      "export default function work(input) { const end = performance.now() + 100; while (performance.now() < end); return input; }",
      { workers: 1, cpu: 0.5 },
    );
    const started = performance.now();
    distributor.state.queue.push(...jsonTasks(program, [1, 2, 3, 4]));
    await until(() => worker.stats().completed === 4);
    // 4 × 100 ms of work plus 100 ms of idling after each of the first three.
    expect(performance.now() - started).toBeGreaterThanOrEqual(700);
  });

  it("never runs a program whose signature does not verify", async () => {
    const { distributor, worker, program } = await setup("export default function work(input) { return input; }", { signer: makeKeys() });
    distributor.state.queue.push(...jsonTasks(program, [1, 2, 3]));
    await until(() => worker.stats().failed === 3);
    const errors = [...distributor.results().values()].map(errorOf);
    expect(errors.map((error) => error?.kind)).toEqual(["program", "program", "program"]);
    expect(errors[0]?.message).toMatch(/signature/);
  });

  it("with --trust, refuses a program signed by another key", async () => {
    const { distributor, worker, program } = await setup("export default function work(input) { return input; }", {
      signer: makeKeys(),
      trust: true,
    });
    distributor.state.queue.push(...jsonTasks(program, [1, 2]));
    await until(() => worker.stats().failed === 2);
    expect([...distributor.results().values()].map((result) => errorOf(result)?.kind)).toEqual(["program", "program"]);
    expect(worker.stats().completed).toBe(0);
  });

  it("sandboxes programs: no file writes or reads outside its folder, no child processes, no threads, no environment", async () => {
    const source = `
      import * as fs from "node:fs";
      export default async function work(input) {
        if (input === "write") fs.writeFileSync("/tmp/disio-sandbox-escape", "x");
        if (input === "spawn") (await import("node:child_process")).execSync("id");
        if (input === "read") return fs.readFileSync("/etc/hostname", "utf8");
        if (input === "thread") new (await import("node:worker_threads")).Worker("process.exit()", { eval: true });
        if (input === "env") return Object.keys(process.env).length;
        if (input === "kill") process.kill(process.ppid, 0);
        if (input === "addon") process.dlopen({ exports: {} }, "/nonexistent.node");
        return "done";
      }`;
    const { distributor, worker, program } = await setup(source);
    distributor.state.queue.push(...jsonTasks(program, ["write", "spawn", "read", "thread", "env", "kill", "addon"]));
    await until(() => worker.stats().completed + worker.stats().failed === 7);
    const results = distributor.results();
    expect(errorOf(results.get("copy-0"))?.kind).toBe("throw");
    expect(errorOf(results.get("copy-0"))?.message).toMatch(/ERR_ACCESS_DENIED, FileSystemWrite/);
    expect(errorOf(results.get("copy-1"))?.message).toMatch(/node:child_process.*ERR_ACCESS_DENIED/);
    expect(errorOf(results.get("copy-2"))?.message).toMatch(/ERR_ACCESS_DENIED, FileSystemRead/);
    expect(errorOf(results.get("copy-3"))?.message).toMatch(/node:worker_threads.*ERR_ACCESS_DENIED/);
    expect(outputOf(results.get("copy-4"))).toBe(0);
    expect(errorOf(results.get("copy-5"))?.message).toMatch(/process.kill.*ERR_ACCESS_DENIED/);
    expect(errorOf(results.get("copy-6"))?.message).toMatch(/ERR_ACCESS_DENIED/);
  });

  it("gives programs no network and no host details: every way out fails and a loopback server sees no connection", async () => {
    const counter = await startConnectionCounter();
    cleanups.push(counter.close);
    const socketPath = join(tmpdir(), `disio-sandbox-${process.pid}.sock`);
    cleanups.push(async () => rmSync(socketPath, { force: true }));
    const attempts: Record<string, string> = {
      fetch: `await fetch(URL)`,
      http: `const http = await import("node:http"); await new Promise((ok, fail) => http.get(URL, ok).on("error", fail))`,
      https: `const https = await import("https"); await new Promise((ok, fail) => https.get(URL, ok).on("error", fail))`,
      net: `const net = await import("node:net"); await connected(net.connect(PORT, "127.0.0.1"))`,
      createRequire: `const { createRequire } = await import("node:module"); createRequire("/x.js")("node:http")`,
      getBuiltinModule: `const net = process.getBuiltinModule("node:net"); await connected(net.connect(PORT, "127.0.0.1"))`,
      stdoutSocket: `const Socket = process.stdout.constructor; await connected(new Socket().connect(PORT, "127.0.0.1"))`,
      dgram: `(await import("node:dgram")).createSocket("udp4").send("x", PORT, "127.0.0.1")`,
      dns: `return await (await import("node:dns")).promises.lookup("localhost")`,
      inspector: `(await import("node:inspector")).open(0)`,
      hostname: `return (await import("node:os")).hostname()`,
      interfaces: `return (await import("os")).networkInterfaces()`,
      report: `return process.report.getReport().header.host`,
      binding: `return Object.keys(process.binding("tcp_wrap"))`,
      pipeHandle: `const pipe = new (Object.getPrototypeOf(process.stdout._handle).constructor)(1); return pipe.bind(${JSON.stringify(socketPath)})`,
      fileImport: `return Object.keys(await import(${JSON.stringify(`file://${process.cwd()}/dist/client-node/unit-runner-entry-path.js`)}))`,
    };
    const source = `
      const URL = ${JSON.stringify(counter.url)}, PORT = ${counter.port};
      const connected = (socket) => new Promise((ok, fail) => { socket.on("connect", () => { socket.destroy(); ok("connected"); }); socket.on("error", fail); });
      export default async function work(input) {
        ${Object.entries(attempts).map(([name, code]) => `if (input === ${JSON.stringify(name)}) { ${code}; return "reached"; }`).join("\n        ")}
      }`;
    const { distributor, worker, program } = await setup(source);
    const names = Object.keys(attempts);
    distributor.state.queue.push(...jsonTasks(program, names));
    await until(() => worker.stats().completed + worker.stats().failed === names.length);
    const results = distributor.results();
    const outcomes = Object.fromEntries(names.map((name, i) => [name, errorOf(results.get(`copy-${i}`))?.kind ?? outputOf(results.get(`copy-${i}`))]));
    expect(outcomes).toEqual(Object.fromEntries(names.map((name) => [name, "throw"])));
    for (const [i, name] of names.entries()) expect(`${name}: ${errorOf(results.get(`copy-${i}`))?.message}`).toMatch(/ERR_ACCESS_DENIED/);
    expect(counter.counter.connections).toBe(0);
  });

  it("on stop finishes the tasks in hand, reports them and stops taking more", async () => {
    const { distributor, worker, program } = await setup(
      "export default async function work(input) { await new Promise((r) => setTimeout(r, 300)); return input * 10; }",
    );
    distributor.state.queue.push(...jsonTasks(program, Array.from({ length: 40 }, (_, i) => i)));
    await until(() => worker.stats().inFlight === 8);
    await worker.stop({ graceMs: 10_000 });
    const results = distributor.results();
    expect([...results.keys()].sort()).toEqual(Array.from({ length: 8 }, (_, i) => `copy-${i}`).sort());
    expect([...results.values()].map(outputOf).sort((a, b) => Number(a) - Number(b))).toEqual([0, 10, 20, 30, 40, 50, 60, 70]);
    expect(distributor.state.queue.length).toBe(32);
    expect(worker.stats()).toEqual({ completed: 8, failed: 0, inFlight: 0 });
    await expect(worker.closed).resolves.toBeUndefined();
  });
});
