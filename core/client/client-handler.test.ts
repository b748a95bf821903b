import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport, type HandlerContext } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { ProgramSchema, TaskSchema, type Task, type TaskResult } from "../../gen/disio/v1/common_pb.js";
import { DistributorService } from "../../gen/disio/v1/distributor_service_pb.js";
import { toBase64 } from "../base64.js";
import { MAX_OUTPUT_BYTES } from "../output-limit.js";
import { programHash, programSignatureMessage } from "../program-signature.js";
import { ClientHandler } from "./client-handler.js";
import type { RunnableTask, UnitProcessor, UnitResult } from "./unit-processor.js";

const fastBackoff = { initialMs: 5, maxMs: 20, multiplier: 2, jitter: 0 };
const encoder = new TextEncoder();

async function signer(): Promise<{ publicKey: Uint8Array; sign(hash: string): Promise<Uint8Array> }> {
  const keys = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", keys.publicKey));
  return { publicKey, sign: async (hash) => new Uint8Array(await crypto.subtle.sign("Ed25519", keys.privateKey, programSignatureMessage(hash) as BufferSource)) };
}

/** An in-memory DistributorService double: a task queue, slot credit, recorded reports. */
function fakeDistributor(options: {
  publicKey: Uint8Array;
  programs: Map<string, { source: string; signature: Uint8Array }>;
  redirectTo?: string;
  heartbeatMs?: number;
}) {
  const state = {
    queue: [] as Task[],
    held: 0,
    slotsAsked: [] as number[],
    slotsReported: [] as number[],
    maxHeld: 0,
    reportCalls: [] as TaskResult[][],
    joins: 0,
    programFetches: 0,
    failNextReports: 0,
    breakStream: false,
    programsUnavailable: false,
    /** Tasks in clients' hands (a restart puts them back in front of the queue). */
    given: new Map<string, Task>(),
    returned: [] as string[],
    heartbeats: 0,
    /** Copies to cancel on the stream (their units were cancelled). */
    cancel: [] as string[],
  };
  const sessions = new Set<string>();
  let credit = 0;
  const impl = {
    getInfo: () => ({ managerPublicKey: options.publicKey }),
    join: () => {
      state.joins++;
      if (options.redirectTo) return { redirectUrl: options.redirectTo };
      const token = `token-${state.joins}`;
      sessions.add(token);
      return {
        clientId: `client-${state.joins}`,
        sessionToken: token,
        managerPublicKey: options.publicKey,
        heartbeatInterval: options.heartbeatMs === undefined ? undefined : { seconds: 0n, nanos: options.heartbeatMs * 1e6 },
      };
    },
    async *work(request: { slots: number }, ctx: HandlerContext) {
      if (!sessions.has(ctx.requestHeader.get("authorization")?.replace("Bearer ", "") ?? "")) {
        throw new ConnectError("no session", Code.Unauthenticated);
      }
      state.slotsAsked.push(request.slots);
      credit = request.slots;
      const mine = new Set<string>();
      // Like the real distributor, a stream's end requeues what it gave and nobody reported.
      ctx.signal.addEventListener("abort", () => {
        for (const copyId of mine) {
          const task = state.given.get(copyId);
          if (task === undefined) continue;
          state.given.delete(copyId);
          state.queue.push(task);
          state.held--;
        }
      });
      while (!ctx.signal.aborted) {
        if (state.breakStream) {
          state.breakStream = false;
          throw new ConnectError("stream broke", Code.Unavailable);
        }
        if (state.cancel.length > 0) {
          const cancelledCopyIds = state.cancel.splice(0).filter((copyId) => state.given.delete(copyId));
          state.held -= cancelledCopyIds.length;
          yield { tasks: [], cancelledCopyIds };
          continue;
        }
        const n = Math.min(credit - state.held, state.queue.length);
        if (n > 0) {
          state.held += n;
          state.maxHeld = Math.max(state.maxHeld, state.held);
          const batch = state.queue.splice(0, n);
          for (const task of batch) {
            state.given.set(task.copyId, task);
            mine.add(task.copyId);
          }
          yield { tasks: batch };
        } else {
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      }
    },
    report: (request: { results: TaskResult[]; slots?: number; returnedCopyIds: string[] }, ctx: HandlerContext) => {
      if (!sessions.has(ctx.requestHeader.get("authorization")?.replace("Bearer ", "") ?? "")) {
        throw new ConnectError("no session", Code.Unauthenticated);
      }
      if (request.slots !== undefined) {
        state.slotsReported.push(request.slots);
        credit = request.slots;
      }
      if (state.failNextReports > 0) {
        state.failNextReports--;
        throw new ConnectError("store busy", Code.Unavailable);
      }
      if (request.results.length === 0 && request.returnedCopyIds.length === 0) state.heartbeats++;
      if (request.results.length > 0) state.reportCalls.push(request.results);
      for (const copyId of request.returnedCopyIds) {
        const task = state.given.get(copyId);
        if (task === undefined) continue;
        state.given.delete(copyId);
        state.returned.push(copyId);
        state.queue.push(task);
        state.held--;
      }
      for (const result of request.results) if (state.given.delete(result.copyId)) state.held--;
      return { accepted: request.results.length };
    },
    getProgram: (request: { hash: string }) => {
      state.programFetches++;
      if (state.programsUnavailable) throw new ConnectError("manager unreachable: get program", Code.Unavailable);
      const program = options.programs.get(request.hash);
      if (!program) throw new ConnectError("no such program", Code.NotFound);
      return { program: create(ProgramSchema, { hash: request.hash, ...program }) };
    },
  };
  /** A kill -9 and restart: sessions are forgotten, the stream breaks, every task in hand is ready again. */
  function restart(): void {
    sessions.clear();
    state.queue.unshift(...state.given.values());
    state.given.clear();
    state.held = 0;
    state.breakStream = true;
  }
  /** Announces `key` at the next Joins (a distributor that changed sides). */
  function announce(key: Uint8Array) {
    options.publicKey = key;
  }
  return { state, impl, restart, announce };
}

/** A processor that "runs" a unit by echoing its input, after an optional delay. */
function echoProcessor(delayMs = 0): UnitProcessor & { ran: RunnableTask[]; cancelled: string[]; stopped: boolean } {
  let listener: (results: UnitResult[]) => void = () => undefined;
  const processor = {
    slots: 4,
    executors: 2,
    ran: [] as RunnableTask[],
    cancelled: [] as string[],
    stopped: false,
    cancel(copyIds: readonly string[]) {
      processor.cancelled.push(...copyIds);
    },
    run(tasks: readonly RunnableTask[]) {
      processor.ran.push(...tasks);
      setTimeout(() => listener(tasks.map((task) => ({ copyId: task.copyId, outcome: { ok: true as const, output: task.input }, durationMs: 0.01 }))), delayMs);
    },
    onResults(next: (results: UnitResult[]) => void) {
      listener = next;
    },
    async stop() {
      processor.stopped = true;
    },
  };
  return processor;
}

function tasks(count: number, hash: string, from = 0): Task[] {
  return Array.from({ length: count }, (_, i) =>
    create(TaskSchema, { copyId: `copy-${from + i}`, unitId: `unit-${from + i}`, programHash: hash, input: encoder.encode(String(from + i)) }),
  );
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const handlers: ClientHandler[] = [];
afterEach(async () => {
  await Promise.all(handlers.splice(0).map((handler) => handler.stop({ graceMs: 100 })));
});

async function setup(
  options: {
    delayMs?: number;
    trustKey?: Uint8Array;
    signWithOtherKey?: boolean;
    redirect?: boolean;
    maxSlots?: number;
    maxBytesInHand?: number;
    heartbeatMs?: number;
    programFetchAttempts?: number;
  } = {},
) {
  const key = await signer();
  const other = await signer();
  const source = "export default (x) => x;";
  const hash = await programHash(source);
  const programs = new Map([[hash, { source, signature: await (options.signWithOtherKey ? other : key).sign(hash) }]]);
  const main = fakeDistributor({ publicKey: key.publicKey, programs, heartbeatMs: options.heartbeatMs });
  const front = fakeDistributor({ publicKey: key.publicKey, programs, redirectTo: "http://peer.test" });
  const transports = new Map(
    [
      ["http://front.test", front],
      ["http://peer.test", main],
    ].map(([url, fake]) => [url as string, createRouterTransport(({ service }) => service(DistributorService, (fake as typeof main).impl))]),
  );
  const processor = echoProcessor(options.delayMs);
  const handler = new ClientHandler(
    {
      distributorUrl: options.redirect ? "http://front.test" : "http://peer.test",
      platform: "node",
      backoff: fastBackoff,
      reportDelayMs: 10,
      reportBatch: 50,
      trustKey: options.trustKey,
      maxSlots: options.maxSlots ?? 4,
      maxBytesInHand: options.maxBytesInHand,
      programFetchAttempts: options.programFetchAttempts,
    },
    { connect: (url) => createClient(DistributorService, transports.get(url)!), processor },
  );
  handlers.push(handler);
  return { handler, processor, state: main.state, restart: main.restart, front: front.state, announce: main.announce, hash, key, other, mainClient: createClient(DistributorService, transports.get("http://peer.test")!) };
}

describe("ClientHandler", () => {
  it("computes every task and reports results in batches, within its slots", async () => {
    const { handler, processor, state, hash } = await setup();
    state.queue.push(...tasks(200, hash));
    handler.start();
    await until(() => handler.stats().completed === 200);
    const reported = state.reportCalls.flat();
    expect(reported.map((r) => r.copyId).sort()).toEqual(tasks(200, hash).map((t) => t.copyId).sort());
    expect(reported.every((r) => r.outcome.case === "output")).toBe(true);
    expect(new TextDecoder().decode(reported.find((r) => r.copyId === "copy-7")!.outcome.value as Uint8Array)).toBe("7");
    // 4 slots: never more than 4 per Report, and not one call per result overall.
    expect(Math.max(...state.reportCalls.map((call) => call.length))).toBeLessThanOrEqual(4);
    expect(state.reportCalls.length).toBeLessThan(200);
    expect(state.slotsAsked).toEqual([4]);
    expect(state.programFetches).toBe(1);
    expect(processor.ran).toHaveLength(200);
    expect(handler.stats()).toEqual({ completed: 200, failed: 0, inFlight: 0 });
  });

  it("drops tasks the distributor cancels: not reported, their slots free, the processor told", async () => {
    const { handler, processor, state, hash } = await setup({ delayMs: 300 });
    const cancelled: number[] = [];
    handler.on("cancelled", (event) => cancelled.push(event.tasks));
    state.queue.push(...tasks(4, hash));
    handler.start();
    await until(() => processor.ran.length === 4);
    state.cancel.push("copy-0", "copy-1");
    state.queue.push(...tasks(2, hash, 4));
    await until(() => handler.stats().completed === 4);
    expect(state.reportCalls.flat().map((r) => r.copyId).sort()).toEqual(["copy-2", "copy-3", "copy-4", "copy-5"]);
    expect(processor.cancelled).toEqual(["copy-0", "copy-1"]);
    expect(cancelled).toEqual([2]);
    expect(handler.stats()).toEqual({ completed: 4, failed: 0, inFlight: 0 });
  });

  it("follows a join redirect", async () => {
    const { handler, state, front, hash } = await setup({ redirect: true });
    const redirects: string[] = [];
    handler.on("redirected", (event) => redirects.push(event.to));
    state.queue.push(...tasks(3, hash));
    handler.start();
    await until(() => handler.stats().completed === 3);
    expect(front.joins).toBe(1);
    expect(state.joins).toBe(1);
    expect(redirects).toEqual(["http://peer.test"]);
  });

  it("never runs a program whose signature fails and reports its tasks as program errors", async () => {
    const { handler, processor, state, hash } = await setup({ signWithOtherKey: true });
    const rejected: string[] = [];
    handler.on("programRejected", (event) => rejected.push(event.reason));
    state.queue.push(...tasks(5, hash));
    handler.start();
    await until(() => handler.stats().failed === 5);
    expect(processor.ran).toHaveLength(0);
    const results = state.reportCalls.flat();
    expect(results.map((r) => (r.outcome.case === "error" ? r.outcome.value.kind : "ok"))).toEqual(Array(5).fill("program"));
    expect(rejected[0]).toMatch(/signature/);
  });

  it("reports an output over the size limit as an encoding error, not the output", async () => {
    const { handler, state, hash } = await setup();
    const [big] = tasks(1, hash);
    big!.input = new Uint8Array(MAX_OUTPUT_BYTES + 1);
    state.queue.push(big!, ...tasks(1, hash, 1));
    handler.start();
    await until(() => handler.stats().completed + handler.stats().failed === 2);
    const results = state.reportCalls.flat();
    const rejected = results.find((r) => r.copyId === big!.copyId)!;
    expect(rejected.outcome.case).toBe("error");
    expect(rejected.outcome.case === "error" && [rejected.outcome.value.kind, rejected.outcome.value.message]).toEqual([
      "encoding",
      `the output is ${MAX_OUTPUT_BYTES + 1} bytes, more than the limit of ${MAX_OUTPUT_BYTES}`,
    ]);
    expect(results.find((r) => r.copyId === "copy-1")!.outcome.case).toBe("output");
    expect(handler.stats()).toMatchObject({ completed: 1, failed: 1 });
  });

  it("refuses a distributor whose manager key is not the pinned trust key", async () => {
    const other = await signer();
    const { handler, state } = await setup({ trustKey: other.publicKey });
    handler.start();
    await expect(handler.closed).rejects.toThrow(/not the pinned trust key/);
    expect(handler.state).toBe("failed");
    expect(state.slotsAsked).toEqual([]);
  });

  it("keeps the key it trusted at its first Join: a rejoin announcing another key fails it, and nothing more runs", async () => {
    const { handler, processor, state, restart, announce, hash, key, other } = await setup();
    const trusted: unknown[] = [];
    handler.on("trusted", (event) => trusted.push(event));
    state.queue.push(...tasks(3, hash));
    handler.start();
    await until(() => handler.stats().completed === 3);
    announce(other.publicKey);
    restart();
    state.queue.push(...tasks(3, hash, 3));
    await expect(handler.closed).rejects.toMatchObject({ name: "TrustKeyMismatchError", source: "remembered", trustedKey: toBase64(key.publicKey) });
    expect(processor.ran).toHaveLength(3);
    expect(state.slotsAsked).toHaveLength(1);
    expect(trusted).toEqual([{ distributorUrl: "http://peer.test", groupId: "", publicKey: toBase64(key.publicKey), how: "first-use" }]);
  });

  it("retries a failed Report and reconnects a broken stream on the same session", async () => {
    const { handler, state, hash } = await setup();
    const disconnects: string[] = [];
    handler.on("disconnected", (event) => disconnects.push(event.error.message));
    state.failNextReports = 2;
    state.queue.push(...tasks(10, hash));
    handler.start();
    await until(() => handler.stats().completed === 10);
    state.breakStream = true;
    await until(() => state.slotsAsked.length === 2);
    state.queue.push(...tasks(10, hash, 10));
    await until(() => handler.stats().completed === 20);
    expect(state.joins).toBe(1);
    expect(disconnects).toHaveLength(1);
    expect(new Set(state.reportCalls.flat().map((r) => r.copyId)).size).toBe(20);
  });

  it("grows its credit for fast units through its Reports, on the same stream and session", async () => {
    const { handler, state, hash } = await setup({ maxSlots: 1_000 });
    state.queue.push(...tasks(3_000, hash));
    handler.start();
    await until(() => handler.stats().completed === 3_000, 10_000);
    expect(state.slotsAsked).toEqual([4]);
    expect(state.slotsReported[0]).toBe(4);
    expect(state.slotsReported.at(-1)).toBe(1_000);
    expect(state.maxHeld).toBeGreaterThan(4);
    expect(state.joins).toBe(1);
    expect(new Set(state.reportCalls.flat().map((r) => r.copyId)).size).toBe(3_000);
  });

  it("shrinks a grown credit as soon as large tasks arrive, to what fits maxBytesInHand", async () => {
    const { handler, state, hash } = await setup({ maxSlots: 1_000, maxBytesInHand: 64 * 1024 });
    const changes: number[] = [];
    handler.on("creditChanged", (event) => changes.push(event.slots));
    state.queue.push(...tasks(3_000, hash));
    handler.start();
    await until(() => handler.stats().completed === 3_000, 10_000);
    expect(state.slotsReported.at(-1)).toBe(1_000);
    const large = tasks(40, hash, 3_000).map((task) => ({ ...task, input: new Uint8Array(16 * 1024).fill(0x31) }));
    state.queue.push(...large);
    await until(() => handler.stats().completed === 3_040, 10_000);
    // 16 KiB tasks, 64 KiB in hand: at most 4 slots' worth (the floor is 4 too).
    expect(changes.at(-1)).toBe(4);
    expect(state.slotsReported.at(-1)).toBe(4);
  });

  it("on stop finishes and reports the tasks in hand, then stops the processor", async () => {
    const { handler, processor, state, hash } = await setup({ delayMs: 200 });
    state.queue.push(...tasks(4, hash));
    handler.start();
    await until(() => processor.ran.length === 4);
    await handler.stop({ graceMs: 2_000 });
    expect(state.reportCalls.flat().map((r) => r.copyId).sort()).toEqual(["copy-0", "copy-1", "copy-2", "copy-3"]);
    expect(processor.stopped).toBe(true);
    expect(handler.state).toBe("stopped");
    await expect(handler.closed).resolves.toBeUndefined();
  });

  it("on stop gives up on tasks not finished within the grace period", async () => {
    const { handler, processor, state, hash } = await setup({ delayMs: 5_000 });
    state.queue.push(...tasks(2, hash));
    handler.start();
    await until(() => processor.ran.length === 2);
    const started = Date.now();
    await handler.stop({ graceMs: 100 });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(state.reportCalls.flat()).toHaveLength(0);
  });

  it("after a distributor restart, reports tasks handed again to its new session there, and its credit comes back", async () => {
    const { handler, processor, state, restart, hash } = await setup({ delayMs: 300 });
    const joined: string[] = [];
    handler.on("joined", (event) => joined.push(event.clientId));
    state.queue.push(...tasks(9, hash));
    handler.start();
    await until(() => processor.ran.length === 4);
    // Killed and restarted while four tasks run: the new session is handed the very same copies.
    restart();
    await until(() => handler.stats().completed === 9);
    expect(joined).toEqual(["client-1", "client-2"]);
    // Each task ran once (the copies handed again were not run twice) and was reported once.
    expect(processor.ran.map((t) => t.copyId).sort()).toEqual(tasks(9, hash).map((t) => t.copyId).sort());
    expect(state.reportCalls.flat()).toHaveLength(9);
    expect(state.held).toBe(0);
  });

  it("hands back, without failing them, tasks whose program cannot be fetched", async () => {
    const { handler, processor, state, hash } = await setup({ programFetchAttempts: 1 });
    const unavailable: number[] = [];
    handler.on("programUnavailable", (event) => unavailable.push(event.tasks));
    state.programsUnavailable = true;
    state.queue.push(...tasks(4, hash));
    handler.start();
    await until(() => state.returned.length >= 4);
    expect(state.reportCalls.flat()).toEqual([]);
    expect(processor.ran).toEqual([]);
    expect(unavailable.length).toBeGreaterThan(0);
    state.programsUnavailable = false;
    await until(() => handler.stats().completed === 4);
    expect(state.reportCalls.flat().every((r) => r.outcome.case === "output")).toBe(true);
  });

  it("sends heartbeats while holding tasks longer than the distributor's interval, and while idle (else it would count as gone)", async () => {
    const { handler, state, hash } = await setup({ heartbeatMs: 100, delayMs: 1_500 });
    state.queue.push(...tasks(2, hash));
    handler.start();
    await until(() => state.heartbeats >= 2);
    await until(() => handler.stats().completed === 2);
    const afterWork = state.heartbeats;
    await until(() => state.heartbeats >= afterWork + 2);
  });

  it("suspends: hands unfinished tasks back, flushes finished results in one farewell, resumes", async () => {
    const { state, hash, mainClient } = await setup({ maxSlots: 4 });
    const processor = manualProcessor();
    const suspendable = new ClientHandler(
      { distributorUrl: "http://peer.test", platform: "browser", backoff: fastBackoff, reportDelayMs: 200, maxSlots: 4 },
      { connect: () => mainClient, processor },
    );
    handlers.push(suspendable);
    state.queue.push(...tasks(10, hash));
    suspendable.start();
    await until(() => processor.running.length === 4);
    const [first, second, third, fourth] = processor.running.map((task) => task.copyId);
    processor.finish([first!, second!]);
    const farewells: { headers: Readonly<Record<string, string>>; returned: string[]; results: string[] }[] = [];
    const suspended = suspendable.suspend(async (target, requests) => {
      for (const request of requests) {
        farewells.push({ headers: target.headers, returned: request.returnedCopyIds, results: request.results.map((r) => r.copyId) });
        await mainClient.report(request, { headers: target.headers });
      }
    });
    expect(suspendable.state).toBe("paused");
    expect(processor.abandoned).toBe(1);
    expect(farewells).toEqual([{ headers: { authorization: "Bearer token-1" }, returned: [third, fourth], results: [first, second] }]);
    await suspended;
    expect(state.returned).toEqual([third, fourth]);
    expect(suspendable.stats()).toEqual({ completed: 2, failed: 0, inFlight: 0 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(processor.ran).toHaveLength(4);
    expect(state.reportCalls.flat().map((r) => r.copyId)).toEqual([first, second]);
    processor.auto = true;
    suspendable.resume();
    await until(() => suspendable.stats().completed === 10);
    expect(state.joins).toBe(1);
    expect(new Set(state.reportCalls.flat().map((r) => r.copyId)).size).toBe(10);
  });
});

/** A processor whose tasks finish when the test says (or at once with `auto`); counts abandons. */
function manualProcessor() {
  let listener: (results: UnitResult[]) => void = () => undefined;
  const ok = (task: RunnableTask): UnitResult => ({ copyId: task.copyId, outcome: { ok: true, output: task.input }, durationMs: 1 });
  const processor = {
    slots: 4,
    executors: 1,
    ran: [] as RunnableTask[],
    running: [] as RunnableTask[],
    abandoned: 0,
    auto: false,
    run(tasks: readonly RunnableTask[]) {
      processor.ran.push(...tasks);
      if (processor.auto) setTimeout(() => listener(tasks.map(ok)), 1);
      else processor.running.push(...tasks);
    },
    finish(copyIds: string[]) {
      const done = processor.running.filter((task) => copyIds.includes(task.copyId));
      processor.running = processor.running.filter((task) => !copyIds.includes(task.copyId));
      listener(done.map(ok));
    },
    abandon() {
      processor.abandoned++;
      processor.running = [];
    },
    onResults(next: (results: UnitResult[]) => void) {
      listener = next;
    },
    async stop() {},
  };
  return processor;
}
