import { randomUUID } from "node:crypto";
import { createServer, type Http2Server, type ServerHttp2Session } from "node:http2";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { TaskResultSchema, TaskSchema, type Task, type TaskResult } from "../gen/disio/v1/common_pb.js";
import { MAX_OUTPUT_BYTES } from "../core/output-limit.js";
import { DistributorService } from "../gen/disio/v1/distributor_service_pb.js";
import { ManagerService } from "../gen/disio/v1/manager_service_pb.js";
import { StoreHealth } from "../core/store-health.js";
import { openDistributorStore } from "./store/open-distributor-store.js";
import { removeRedisKeys } from "./store/redis/remove-redis-keys.js";
import { startDistributor, type RunningDistributor } from "./index.js";
import type { DistributorOptions } from "./distributor-options.js";
import { joinRetrying } from "../test/join-retrying.js";

const log = pino({ level: "silent" });
const TOKEN = "dist-token";

/** A test double of a remote ManagerService, served over h2c on 127.0.0.1. */
class FakeManager {
  queue: Task[] = [];
  readonly results = new Map<string, TaskResult>();
  readonly reportSizes: number[] = [];
  registers = 0;
  readonly registerRequests: { reconcile: boolean; heldCopyIds: string[] }[] = [];
  peers: { distributorId: string; publicUrl: string; region: string; freeSlots: number }[] = [];
  programs = new Map<string, { hash: string; source: string; signature: Uint8Array }>();
  programFetches = 0;
  heartbeatDirectives: { drain?: boolean; cancelledUnitIds?: string[]; pausedProjectIds?: string[] } = {};
  /** Every copy assignment heartbeats carried: copy id → client id. */
  readonly givenCopies = new Map<string, string>();
  /** When set, Lease waits this long, then leases (whether or not the caller is still there). */
  leaseDelayMs = 0;
  leaseCalls = 0;
  #server: Http2Server | undefined;
  #sessions = new Set<ServerHttp2Session>();
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  add(count: number, from = 0): void {
    for (let i = from; i < from + count; i++) {
      this.queue.push(
        create(TaskSchema, {
          copyId: `c${i}`,
          unitId: `u${i}`,
          projectId: "p1",
          programHash: "ab".repeat(32),
          input: new TextEncoder().encode(String(i)),
          deadline: timestampFromMs(Date.now() + 60_000),
        }),
      );
    }
  }

  async start(): Promise<void> {
    const handler = connectNodeAdapter({
      routes: (router) =>
        router.service(ManagerService, {
          register: (req, ctx) => {
            this.#auth(ctx.requestHeader);
            this.registers++;
            this.registerRequests.push({ reconcile: req.reconcile, heldCopyIds: [...req.heldCopyIds].sort() });
            return {
              distributorId: "d-1",
              groupId: "g",
              managerId: "m",
              publicKey: new Uint8Array(32).fill(1),
              settings: { maxLeaseBatch: 100, maxReportBatch: 20 },
              peers: this.peers,
            };
          },
          lease: async (req, ctx) => {
            this.#auth(ctx.requestHeader);
            this.leaseCalls++;
            if (this.leaseDelayMs > 0) await new Promise((r) => setTimeout(r, this.leaseDelayMs));
            else if (this.queue.length === 0) await new Promise((r) => setTimeout(r, 100));
            return { tasks: this.queue.splice(0, Math.min(req.maxCopies, 100)) };
          },
          report: (req, ctx) => {
            this.#auth(ctx.requestHeader);
            this.reportSizes.push(req.results.length);
            let accepted = 0;
            for (const r of req.results) {
              if (!this.results.has(r.copyId)) accepted++;
              this.results.set(r.copyId, r);
            }
            return { accepted, duplicates: req.results.length - accepted };
          },
          renew: (req) => ({ renewed: req.copyIds.map((copyId) => ({ copyId, deadline: timestampFromMs(Date.now() + 60_000) })) }),
          heartbeat: (req) => {
            for (const g of req.givenCopies) this.givenCopies.set(g.copyId, g.clientId);
            return { peers: this.peers, ...this.heartbeatDirectives };
          },
          getProgram: (req) => {
            this.programFetches++;
            const program = this.programs.get(req.hash);
            if (program === undefined) throw new ConnectError("no program", Code.NotFound);
            return { program };
          },
        }),
    });
    this.#server = createServer(handler);
    this.#server.on("session", (s) => {
      this.#sessions.add(s);
      s.on("close", () => this.#sessions.delete(s));
    });
    await new Promise<void>((resolve) => this.#server?.listen(this.port, "127.0.0.1", resolve));
    const address = this.#server.address();
    if (address !== null && typeof address === "object") this.port = address.port;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    for (const s of this.#sessions) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #auth(headers: Headers): void {
    if (headers.get("authorization") !== `Bearer ${TOKEN}`) throw new ConnectError("bad token", Code.Unauthenticated);
  }
}

interface TestClient {
  clientId: string;
  client: Client<typeof DistributorService>;
  headers: Record<string, string>;
}

async function joinClient(url: string): Promise<TestClient> {
  const client = createClient(DistributorService, createConnectTransport({ baseUrl: url, httpVersion: "1.1" }));
  const joined = await joinRetrying(client);
  return { clientId: joined.clientId, client, headers: { authorization: `Bearer ${joined.sessionToken}` } };
}

/** Opens a Work stream and collects tasks into `received`; `abort` ends it. */
function work(c: TestClient, slots: number) {
  const abort = new AbortController();
  const received: Task[] = [];
  const cancelled: string[] = [];
  let pauses = 0;
  const done = (async () => {
    try {
      for await (const message of c.client.work({ slots }, { headers: c.headers, signal: abort.signal })) {
        received.push(...message.tasks);
        cancelled.push(...message.cancelledCopyIds);
        if (message.pause) pauses++;
      }
    } catch (error) {
      if (!abort.signal.aborted) throw error;
    }
  })();
  return { abort, received, cancelled, done, pauses: () => pauses };
}

function ok(copyId: string): TaskResult {
  return create(TaskResultSchema, { copyId, outcome: { case: "output", value: new TextEncoder().encode("42") } });
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every test runs on each store: SQLite in the data folder, and Redis under a prefix of its own. */
const STORES: Array<[string, () => Partial<DistributorOptions>]> = [
  ["sqlite", () => ({})],
  ["redis", () => ({ store: "redis://127.0.0.1:6379/0", redisPrefix: `disio-test:${randomUUID()}:` })],
];

describe.each(STORES)("startDistributor with a fake manager, on %s", (_name, storeOptions) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup(tuning: Partial<DistributorOptions> = {}, manager = new FakeManager()) {
    const dataDir = await mkdtemp(join(tmpdir(), "disio-dist-"));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const store = storeOptions();
    if (store.redisPrefix !== undefined) cleanups.push(async () => void (await removeRedisKeys(store.store!, store.redisPrefix!)));
    if (manager.port === 0) await manager.start();
    cleanups.push(() => manager.stop());
    const options: DistributorOptions = {
      port: 0,
      managerUrls: [manager.url],
      token: TOKEN,
      dataDir,
      log,
      highWatermark: 50,
      lowWatermark: 20,
      leaseWaitMs: 200,
      flushIntervalMs: 50,
      heartbeatIntervalMs: 100,
      closeGraceMs: 1_000,
      ...store,
      ...tuning,
    };
    let distributor: RunningDistributor | undefined = await startDistributor(options);
    cleanups.push(async () => distributor?.close({ graceMs: 200 }));
    return {
      manager,
      dataDir,
      options,
      get distributor() {
        return distributor as RunningDistributor;
      },
      /** The stopped distributor's store, opened as it opens it. */
      openStore() {
        return openDistributorStore({ store: options.store ?? "sqlite", dataDir, redisPrefix: options.redisPrefix, health: new StoreHealth(), log });
      },
      async restart() {
        await distributor?.close({ graceMs: 200 });
        distributor = await startDistributor(options);
        return distributor;
      },
    };
  }

  it("streams leased tasks to a client within its credit and flushes results to the manager in batches", async () => {
    const manager = new FakeManager();
    manager.add(60);
    const grid = await setup({}, manager);
    const c = await joinClient(grid.distributor.url);
    expect(c.clientId).not.toBe("");
    const stream = work(c, 7);
    await until("first tasks", () => stream.received.length === 7);
    await new Promise((r) => setTimeout(r, 150));
    expect(stream.received).toHaveLength(7);
    expect(stream.received[0]?.deadline).toBeDefined();
    let reported = 0;
    while (reported < 60) {
      await until("tasks to report", () => stream.received.length > reported);
      const batch = stream.received.slice(reported);
      const answer = await c.client.report({ results: batch.map((t) => ok(t.copyId)) }, { headers: c.headers });
      expect(answer.accepted).toBe(batch.length);
      reported += batch.length;
      expect(stream.received.length - reported).toBeLessThanOrEqual(7);
    }
    await until("all results at the manager", () => manager.results.size === 60);
    expect(new Set(stream.received.map((t) => t.copyId)).size).toBe(60);
    expect(Math.max(...manager.reportSizes)).toBeLessThanOrEqual(20);
    expect(manager.results.get("c3")?.clientId).toBe(c.clientId);
    expect(manager.results.get("c3")?.unitId).toBe("u3");
    const again = await c.client.report({ results: [ok("c3")] }, { headers: c.headers });
    expect(again.duplicates + again.accepted).toBe(1);
    const metrics = await (await fetch(`${grid.distributor.url}/metrics`)).text();
    expect(metrics).toMatch(/disio_distributor_tasks_given_total 60\b/);
    expect(metrics).toMatch(/disio_distributor_results_received_total 6[01]\b/);
    expect(metrics).toMatch(/disio_distributor_copies_held 0\b/);
    stream.abort.abort();
    await stream.done;
  });

  it("tells the manager in its heartbeats which client holds each copy", async () => {
    const manager = new FakeManager();
    manager.add(6);
    const grid = await setup({}, manager);
    const a = await joinClient(grid.distributor.url);
    const b = await joinClient(grid.distributor.url);
    const first = work(a, 2);
    const second = work(b, 4);
    await until("every task given", () => first.received.length + second.received.length === 6);
    await until("assignments at the manager", () => manager.givenCopies.size === 6);
    for (const task of first.received) expect(manager.givenCopies.get(task.copyId)).toBe(a.clientId);
    for (const task of second.received) expect(manager.givenCopies.get(task.copyId)).toBe(b.clientId);
    first.abort.abort();
    second.abort.abort();
    await Promise.all([first.done, second.done]);
  });

  it("refuses joins with Unavailable until it knows its manager's key, so no client fails tasks it cannot verify", async () => {
    const grid = await setup({ managerUrls: ["http://127.0.0.1:1"] });
    const client = createClient(DistributorService, createConnectTransport({ baseUrl: grid.distributor.url, httpVersion: "1.1" }));
    const err = await client.join({ platform: "node", cores: 1 }).catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.Unavailable);
    expect((err as ConnectError).rawMessage).toMatch(/not registered with a manager yet/);
  });

  it("announces its manager's key and group at Join, for clients that remember keys", async () => {
    const grid = await setup({});
    const joined = await joinRetrying(createClient(DistributorService, createConnectTransport({ baseUrl: grid.distributor.url, httpVersion: "1.1" })));
    expect({ key: [...joined.managerPublicKey], group: joined.managerGroupId }).toEqual({ key: new Array(32).fill(1), group: "g" });
  });

  it("refuses results of tasks the client was not given: the whole call when none was, else those listed", async () => {
    const manager = new FakeManager();
    manager.add(4);
    const grid = await setup({}, manager);
    const a = await joinClient(grid.distributor.url);
    const b = await joinClient(grid.distributor.url);
    const stream = work(a, 2);
    await until("tasks", () => stream.received.length === 2);
    const mine = stream.received[0]?.copyId as string;
    const err = await b.client.report({ results: [ok(mine)] }, { headers: b.headers }).catch((e: unknown) => ConnectError.from(e));
    expect((err as ConnectError).code).toBe(Code.PermissionDenied);
    const noToken = await a.client.report({ results: [ok(mine)] }).catch((e: unknown) => ConnectError.from(e));
    expect((noToken as ConnectError).code).toBe(Code.Unauthenticated);
    const huge = { copyId: mine, outcome: { case: "output" as const, value: new Uint8Array(MAX_OUTPUT_BYTES + 1) } };
    const oversized = await a.client.report({ results: [huge] }, { headers: a.headers }).catch((e: unknown) => ConnectError.from(e));
    expect((oversized as ConnectError).code).toBe(Code.InvalidArgument);
    expect((oversized as ConnectError).rawMessage).toMatch(/^results\[0\]\.output: 4194305 bytes, more than 4194304/);
    await new Promise((r) => setTimeout(r, 200));
    expect(manager.results.size).toBe(0);
    const mixed = await a.client.report({ results: [ok(mine), ok("c-never-leased")] }, { headers: a.headers });
    expect({ accepted: mixed.accepted, refused: mixed.refusedCopyIds }).toEqual({ accepted: 1, refused: ["c-never-leased"] });
    await until("the given result at the manager", () => manager.results.size === 1);
    expect([...manager.results.keys()]).toEqual([mine]);
    stream.abort.abort();
    await stream.done;
  });

  it("re-issues the tasks of a client that disconnects to another client", async () => {
    const manager = new FakeManager();
    manager.add(5);
    const grid = await setup({}, manager);
    const a = await joinClient(grid.distributor.url);
    const first = work(a, 5);
    await until("a's tasks", () => first.received.length === 5);
    const b = await joinClient(grid.distributor.url);
    const second = work(b, 5);
    await new Promise((r) => setTimeout(r, 100));
    expect(second.received).toHaveLength(0);
    first.abort.abort();
    await first.done;
    await until("b gets a's tasks", () => second.received.length === 5);
    expect(second.received.map((t) => t.copyId).sort()).toEqual(first.received.map((t) => t.copyId).sort());
    second.abort.abort();
    await second.done;
  });

  it("keeps serving a client that reopens Work on the same session before its old stream ended", async () => {
    const manager = new FakeManager();
    manager.add(60);
    const grid = await setup({}, manager);
    const c = await joinClient(grid.distributor.url);
    const first = work(c, 5);
    await until("first stream's tasks", () => first.received.length === 5);
    // The old stream is still registered at the distributor (waiting for credit) when the new one opens.
    const second = work(c, 5);
    await first.done;
    let reported = 0;
    while (manager.results.size < 60) {
      // Each report frees credit: the second stream must keep delivering until all 60 are done.
      await until(`tasks on the second stream after ${reported} reports`, () => second.received.length > reported, 3_000);
      const batch = second.received.slice(reported);
      await c.client.report({ results: batch.map((t) => ok(t.copyId)) }, { headers: c.headers });
      reported += batch.length;
      await until("results at the manager", () => manager.results.size === reported, 3_000);
    }
    // The first stream's unreported copies came back once; none of the second stream's was requeued.
    expect(second.received).toHaveLength(60);
    expect(new Set(second.received.map((t) => t.copyId)).size).toBe(60);
    second.abort.abort();
    await second.done;
  });

  it("re-issues a task whose client lease was missed, and still accepts the late result", async () => {
    const manager = new FakeManager();
    manager.add(1);
    const grid = await setup({ taskLeaseMs: 300 }, manager);
    const a = await joinClient(grid.distributor.url);
    const slow = work(a, 1);
    await until("a's task", () => slow.received.length === 1);
    const b = await joinClient(grid.distributor.url);
    const fast = work(b, 1);
    await until("the task re-issued to b", () => fast.received.length === 1, 3_000);
    expect(fast.received[0]?.copyId).toBe(slow.received[0]?.copyId);
    expect((await a.client.report({ results: [ok("c0")] }, { headers: a.headers })).accepted).toBe(1);
    expect((await b.client.report({ results: [ok("c0")] }, { headers: b.headers })).duplicates).toBe(1);
    await until("result at manager", () => manager.results.size === 1);
    expect(manager.results.get("c0")?.clientId).toBe(a.clientId);
    slow.abort.abort();
    fast.abort.abort();
    await Promise.all([slow.done, fast.done]);
  });

  it("keeps dispatching held copies and buffering results while the manager is down, then flushes", async () => {
    const manager = new FakeManager();
    manager.add(30);
    const grid = await setup({}, manager);
    const c = await joinClient(grid.distributor.url);
    const stream = work(c, 10);
    await until("first tasks", () => stream.received.length === 10);
    await until("buffer filled", () => manager.queue.length === 0);
    await manager.stop();
    let reported = 0;
    while (reported < 30) {
      await until("tasks while manager down", () => stream.received.length > reported);
      const batch = stream.received.slice(reported);
      expect((await c.client.report({ results: batch.map((t) => ok(t.copyId)) }, { headers: c.headers })).accepted).toBe(batch.length);
      reported += batch.length;
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(manager.results.size).toBe(0);
    const info = await c.client.getInfo({});
    expect(info.managerConnected).toBe(false);
    expect(info.distributorId).toBe("d-1");
    const registersBefore = manager.registers;
    await manager.start();
    await until("results flushed after the manager is back", () => manager.results.size === 30, 10_000);
    expect(manager.registers).toBeGreaterThan(registersBefore);
    stream.abort.abort();
    await stream.done;
  });

  it("starts with the manager down, and after a restart serves held copies and flushes stored results", async () => {
    const manager = new FakeManager();
    manager.add(6);
    const grid = await setup({}, manager);
    const c = await joinClient(grid.distributor.url);
    const stream = work(c, 3);
    await until("tasks", () => stream.received.length === 3);
    await until("all leased", () => manager.queue.length === 0);
    await manager.stop();
    await c.client.report({ results: stream.received.map((t) => ok(t.copyId)) }, { headers: c.headers });
    stream.abort.abort();
    await stream.done;

    const restarted = await grid.restart();
    expect(restarted.distributorId).toBe("d-1");
    const c2 = await joinClient(restarted.url);
    const again = work(c2, 10);
    await until("held copies served again", () => again.received.length === 3);
    const served = again.received.map((t) => t.copyId);
    expect(served.some((id) => stream.received.some((t) => t.copyId === id))).toBe(false);
    // The old session token still works after the restart (same secret).
    const back = createClient(DistributorService, createConnectTransport({ baseUrl: restarted.url, httpVersion: "1.1" }));
    expect((await back.report({ results: [ok(stream.received[0]?.copyId as string)] }, { headers: c.headers })).duplicates).toBe(1);
    await c2.client.report({ results: again.received.map((t) => ok(t.copyId)) }, { headers: c2.headers });
    await manager.start();
    await until("all six results at the manager", () => manager.results.size === 6, 10_000);
    again.abort.abort();
    await again.done;
    // Each process's first registration lists what it knows of (the restarted one: six buffered
    // results), so the manager can give back copies lost in between; a later one lists nothing.
    const sixCopies = ["c0", "c1", "c2", "c3", "c4", "c5"];
    expect(manager.registerRequests).toEqual([
      { reconcile: true, heldCopyIds: [] },
      { reconcile: true, heldCopyIds: sixCopies },
    ]);
    await manager.stop();
    await new Promise((r) => setTimeout(r, 500)); // heartbeats (every 100 ms) fail: the link is lost
    await manager.start();
    await until("registered again", () => manager.registerRequests.length === 3, 10_000);
    expect(manager.registerRequests[2]).toEqual({ reconcile: false, heldCopyIds: [] });
  });

  it("takes a new credit from a Report's slots for the open stream; refuses slots out of range", async () => {
    const manager = new FakeManager();
    manager.add(20);
    const grid = await setup({}, manager);
    const c = await joinClient(grid.distributor.url);
    const stream = work(c, 2);
    await until("two tasks", () => stream.received.length === 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(stream.received).toHaveLength(2);
    await c.client.report({ results: [ok(stream.received[0]!.copyId)], slots: 5 }, { headers: c.headers });
    // One task still in hand, credit 5: four more arrive on the same stream.
    await until("credit of five", () => stream.received.length === 6);
    await new Promise((r) => setTimeout(r, 100));
    expect(stream.received).toHaveLength(6);
    const refused = await c.client.report({ results: [], slots: 0 }, { headers: c.headers }).catch((e: unknown) => ConnectError.from(e));
    expect(refused).toMatchObject({ code: Code.InvalidArgument });
    expect((refused as ConnectError).rawMessage).toContain("slots");
    stream.abort.abort();
    await stream.done;
  });

  it("acknowledges a report only after its results are committed to the store", async () => {
    const manager = new FakeManager();
    manager.add(2);
    const grid = await setup({}, manager);
    const c = await joinClient(grid.distributor.url);
    const stream = work(c, 2);
    await until("tasks", () => stream.received.length === 2);
    await manager.stop();
    await c.client.report({ results: stream.received.map((t) => ok(t.copyId)) }, { headers: c.headers });
    stream.abort.abort();
    await stream.done;
    await grid.distributor.close({ graceMs: 100 });
    const store = await grid.openStore();
    const pending = await store.pendingResults(10);
    expect(pending.map((r) => r.copyId).sort()).toEqual(["c0", "c1"]);
    expect(pending.every((r) => r.clientId === c.clientId)).toBe(true);
    expect((await store.counts()).held).toBe(0);
    await store.close();
  });

  it("does not hand out copies of paused projects and drops copies of cancelled units", async () => {
    const manager = new FakeManager();
    manager.add(4);
    manager.heartbeatDirectives = { pausedProjectIds: ["p1"], cancelledUnitIds: ["u0"] };
    const grid = await setup({}, manager);
    await until("leased", () => manager.queue.length === 0);
    await new Promise((r) => setTimeout(r, 300));
    const c = await joinClient(grid.distributor.url);
    const stream = work(c, 10);
    await new Promise((r) => setTimeout(r, 200));
    expect(stream.received).toHaveLength(0);
    manager.heartbeatDirectives = {};
    await until("resumed", () => stream.received.length === 3, 3_000);
    expect(stream.received.map((t) => t.copyId).sort()).toEqual(["c1", "c2", "c3"]);
    stream.abort.abort();
    await stream.done;
  });

  it("cancels a cancelled unit's task in its client's hands on its Work stream, freeing the slot", async () => {
    const manager = new FakeManager();
    manager.add(3);
    const grid = await setup({}, manager);
    await until("leased", () => manager.queue.length === 0);
    const c = await joinClient(grid.distributor.url);
    const stream = work(c, 1);
    await until("one task", () => stream.received.length === 1);
    const [first] = stream.received;
    manager.heartbeatDirectives = { cancelledUnitIds: [first!.unitId] };
    await until("cancelled", () => stream.cancelled.length === 1, 3_000);
    expect(stream.cancelled).toEqual([first!.copyId]);
    // The slot it held is free: the next task comes without a report.
    await until("the next task", () => stream.received.length === 2, 3_000);
    expect(stream.received[1]!.unitId).not.toBe(first!.unitId);
    stream.abort.abort();
    await stream.done;
  });

  it("redirects joining clients to a peer when full, and refuses when no peer has room", async () => {
    const manager = new FakeManager();
    manager.peers = [
      { distributorId: "d-2", publicUrl: "http://far.example:7200", region: "far", freeSlots: 50 },
      { distributorId: "d-3", publicUrl: "http://near.example:7200", region: "eu", freeSlots: 3 },
      { distributorId: "d-4", publicUrl: "http://full.example:7200", region: "eu", freeSlots: 0 },
    ];
    const grid = await setup({ maxClients: 1, region: "eu" }, manager);
    const a = await joinClient(grid.distributor.url);
    const stream = work(a, 1);
    await until("a connected", async () => {
      const info = await a.client.getInfo({});
      return info.clients === 1 && info.distributorId === "d-1";
    });
    const second = await a.client.join({ platform: "node" });
    expect(second.redirectUrl).toBe("http://near.example:7200");
    expect(second.sessionToken).toBe("");
    manager.peers = [];
    await new Promise((r) => setTimeout(r, 300));
    const refused = await a.client.join({ platform: "node" }).catch((e: unknown) => ConnectError.from(e));
    expect((refused as ConnectError).code).toBe(Code.ResourceExhausted);
    stream.abort.abort();
    await stream.done;
    await until("a gone", async () => (await a.client.getInfo({})).clients === 0);
    expect((await a.client.join({ platform: "node" })).sessionToken).not.toBe("");
  });

  it("serves programs from the manager once, then from its cache even while the manager is down", async () => {
    const manager = new FakeManager();
    const hash = "cd".repeat(32);
    manager.programs.set(hash, { hash, source: "export default (x) => x", signature: new Uint8Array([9, 9]) });
    const grid = await setup({}, manager);
    const c = await joinClient(grid.distributor.url);
    await until("registered", async () => (await c.client.getInfo({})).distributorId === "d-1");
    const first = await c.client.getProgram({ hash });
    expect(first.program?.source).toBe("export default (x) => x");
    expect([...(first.program?.signature ?? [])]).toEqual([9, 9]);
    await manager.stop();
    expect((await c.client.getProgram({ hash })).program?.hash).toBe(hash);
    expect(manager.programFetches).toBe(1);
    const bad = await c.client.getProgram({ hash: "nope" }).catch((e: unknown) => ConnectError.from(e));
    expect((bad as ConnectError).code).toBe(Code.InvalidArgument);
    await manager.start();
    await until("registered again", async () => (await c.client.getInfo({})).managerConnected);
    const missing = await c.client.getProgram({ hash: "ef".repeat(32) }).catch((e: unknown) => ConnectError.from(e));
    expect((missing as ConnectError).code).toBe(Code.NotFound);
  });

  it("fails over to the next manager URL when the first is unreachable", async () => {
    const manager = new FakeManager();
    manager.add(3);
    await manager.start();
    const grid = await setup({ managerUrls: ["http://127.0.0.1:1", manager.url] }, manager);
    const c = await joinClient(grid.distributor.url);
    const stream = work(c, 5);
    await until("tasks from the second manager", () => stream.received.length === 3, 5_000);
    expect(grid.distributor.distributorId).toBe("d-1");
    stream.abort.abort();
    await stream.done;
  });

  it("stops leasing when the manager asks to drain", async () => {
    const manager = new FakeManager();
    manager.heartbeatDirectives = { drain: true };
    const grid = await setup({}, manager);
    const c = await joinClient(grid.distributor.url);
    await until("registered", async () => (await c.client.getInfo({})).distributorId === "d-1");
    await new Promise((r) => setTimeout(r, 300));
    manager.add(5);
    await new Promise((r) => setTimeout(r, 400));
    expect(manager.queue).toHaveLength(5);
    manager.heartbeatDirectives = {};
    await until("leasing resumed", () => manager.queue.length === 0, 3_000);
  });

  it("on close, stores the copies of a Lease still in flight, and serves them after a restart", async () => {
    const manager = new FakeManager();
    manager.leaseDelayMs = 600;
    manager.add(10);
    const grid = await setup({}, manager);
    await until("a lease in flight", () => manager.leaseCalls === 1);
    const closedAt = Date.now();
    await grid.distributor.close({ graceMs: 3_000 });
    expect(Date.now() - closedAt).toBeLessThan(2_500);
    expect(manager.queue).toHaveLength(0);
    const store = await grid.openStore();
    expect((await store.counts()).held).toBe(10);
    await store.close();
    manager.leaseDelayMs = 0;
    const restarted = await grid.restart();
    const c = await joinClient(restarted.url);
    const stream = work(c, 20);
    await until("the held copies served", () => stream.received.length === 10);
    expect(stream.received.map((t) => t.copyId).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `c${i}`).sort());
    stream.abort.abort();
    await stream.done;
  });

  it.each([
    { case: "when a short close grace runs out", leaseMs: 5_000, graceMs: 300, withinMs: 900 },
    { case: "after about a second, whatever the grace (an idle manager long-polls)", leaseMs: 10_000, graceMs: 8_000, withinMs: 2_500 },
  ])("gives up a Lease in flight $case", async ({ leaseMs, graceMs, withinMs }) => {
    const manager = new FakeManager();
    manager.leaseDelayMs = leaseMs;
    const grid = await setup({}, manager);
    await until("a lease in flight", () => manager.leaseCalls === 1);
    const closedAt = Date.now();
    await grid.distributor.close({ graceMs });
    expect(Date.now() - closedAt).toBeLessThan(withinMs);
    expect(grid.distributor.state).toBe("stopped");
  });

  it("ends streams with a pause on close", async () => {
    const grid = await setup();
    const c = await joinClient(grid.distributor.url);
    const stream = work(c, 1);
    await new Promise((r) => setTimeout(r, 100));
    await grid.distributor.close({ graceMs: 500 });
    await stream.done;
    expect(stream.pauses()).toBe(1);
    expect(grid.distributor.state).toBe("stopped");
  });
});
