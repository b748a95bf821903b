import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { execFileSync } from "node:child_process";
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import { createServer, type Http2Server } from "node:http2";
import type { AddressInfo } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { Encoding, ProgramSchema, TaskSchema, type Task, type TaskResult } from "../gen/disio/v1/common_pb.js";
import { DistributorService } from "../gen/disio/v1/distributor_service_pb.js";
import { PROGRAM_SIGNATURE_PREFIX } from "../core/program-signature.js";
import { startWorker, type RunningWorker } from "./index.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const log = pino({ level: process.env.TEST_LOG ?? "silent" });
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Unit runners are compiled JS (see unit-runner-entry-path.ts): rebuild dist when a source is newer. */
beforeAll(() => {
  const entry = join(root, "dist", "client-node", "unit-runner-entry.js");
  const builtAt = safeMtime(entry);
  const sources = [
    ...readdirSync(join(root, "client-node")).map((name) => join(root, "client-node", name)),
    join(root, "core", "client", "unit-processor.ts"),
  ].filter((path) => path.endsWith(".ts") && !path.endsWith(".test.ts"));
  if (sources.some((path) => safeMtime(path) > builtAt)) {
    try {
      execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: root, stdio: "ignore" });
    } catch {
      // Type errors elsewhere in the tree do not stop tsc from emitting our files.
    }
  }
  expect(safeMtime(entry)).toBeGreaterThan(0);
}, 120_000);

function safeMtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

interface Keys {
  publicKey: Uint8Array;
  privateKey: KeyObject;
}

function makeKeys(): Keys {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const jwk = publicKey.export({ format: "jwk" });
  return { publicKey: new Uint8Array(Buffer.from(jwk.x!, "base64url")), privateKey };
}

function signedProgram(source: string, keys: Keys) {
  const hash = createHash("sha256").update(source, "utf8").digest("hex");
  const signature = new Uint8Array(sign(null, Buffer.from(PROGRAM_SIGNATURE_PREFIX + hash, "utf8"), keys.privateKey));
  return create(ProgramSchema, { hash, source, signature });
}

/** A test double of a remote distributor on 127.0.0.1:0 over h2c: a task queue, slot credit, recorded reports. */
async function startFakeDistributor(options: { announcedKey: Uint8Array; programs: ReturnType<typeof signedProgram>[]; maxRunTimeMs?: number }) {
  const state = { queue: [] as Task[], given: 0, held: 0, reportCalls: [] as TaskResult[][] };
  const programs = new Map(options.programs.map((program) => [program.hash, program]));
  const handler = connectNodeAdapter({
    routes: (router) =>
      router.service(DistributorService, {
        getInfo: () => ({ managerPublicKey: options.announcedKey }),
        join: () => ({
          clientId: "client-1",
          sessionToken: "session-1",
          managerPublicKey: options.announcedKey,
          taskLease: durationFromMs(60_000),
          maxRunTime: options.maxRunTimeMs === undefined ? undefined : durationFromMs(options.maxRunTimeMs),
        }),
        async *work(request, ctx: HandlerContext) {
          if (ctx.requestHeader.get("authorization") !== "Bearer session-1") throw new ConnectError("no session", Code.Unauthenticated);
          while (!ctx.signal.aborted) {
            const n = Math.min(request.slots - state.held, state.queue.length);
            if (n > 0) {
              state.held += n;
              state.given += n;
              yield { tasks: state.queue.splice(0, n) };
            } else {
              await new Promise((resolve) => setTimeout(resolve, 2));
            }
          }
        },
        report: (request, ctx) => {
          if (ctx.requestHeader.get("authorization") !== "Bearer session-1") throw new ConnectError("no session", Code.Unauthenticated);
          state.reportCalls.push(request.results);
          state.held -= request.results.length;
          return { accepted: request.results.length };
        },
        getProgram: (request) => {
          const program = programs.get(request.hash);
          if (program === undefined) throw new ConnectError("no such program", Code.NotFound);
          return { program };
        },
      }),
  });
  const server: Http2Server = createServer(handler);
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    state,
    results: () => new Map(state.reportCalls.flat().map((result) => [result.copyId, result])),
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        // Streams of a worker that was not stopped would keep the server open.
        setTimeout(done, 500);
      }),
  };
}

function jsonTasks(program: { hash: string }, inputs: unknown[], prefix = "copy"): Task[] {
  return inputs.map((input, i) =>
    create(TaskSchema, {
      copyId: `${prefix}-${i}`,
      unitId: `unit-${prefix}-${i}`,
      projectId: "project-1",
      programHash: program.hash,
      input: encoder.encode(JSON.stringify(input)),
      inputEncoding: Encoding.JSON,
      outputEncoding: Encoding.JSON,
    }),
  );
}

function outputOf(result: TaskResult | undefined): unknown {
  if (result?.outcome.case !== "output") return { error: result?.outcome.case === "error" ? result.outcome.value : "missing" };
  return JSON.parse(decoder.decode(result.outcome.value));
}

function errorOf(result: TaskResult | undefined): { kind: string; message: string } | undefined {
  return result?.outcome.case === "error" ? { kind: result.outcome.value.kind, message: result.outcome.value.message } : undefined;
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error("timed out waiting");
    await new Promise((done) => setTimeout(done, 10));
  }
}

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
      import * as childProcess from "node:child_process";
      import { Worker } from "node:worker_threads";
      export default function work(input) {
        if (input === "write") fs.writeFileSync("/tmp/disio-sandbox-escape", "x");
        if (input === "spawn") childProcess.execSync("id");
        if (input === "read") return fs.readFileSync("/etc/hostname", "utf8");
        if (input === "thread") new Worker("process.exit()", { eval: true });
        if (input === "env") return Object.keys(process.env).length;
        return "done";
      }`;
    const { distributor, worker, program } = await setup(source);
    distributor.state.queue.push(...jsonTasks(program, ["write", "spawn", "read", "thread", "env"]));
    await until(() => worker.stats().completed + worker.stats().failed === 5);
    const results = distributor.results();
    expect(errorOf(results.get("copy-0"))?.kind).toBe("throw");
    expect(errorOf(results.get("copy-0"))?.message).toMatch(/ERR_ACCESS_DENIED, FileSystemWrite/);
    expect(errorOf(results.get("copy-1"))?.message).toMatch(/ERR_ACCESS_DENIED, ChildProcess/);
    expect(errorOf(results.get("copy-2"))?.message).toMatch(/ERR_ACCESS_DENIED, FileSystemRead/);
    expect(errorOf(results.get("copy-3"))?.message).toMatch(/ERR_ACCESS_DENIED, WorkerThreads/);
    expect(outputOf(results.get("copy-4"))).toBe(0);
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
