import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { TaskResultSchema, type TaskResult } from "../gen/disio/v1/common_pb.js";
import { openSqliteStore } from "./store/sqlite/sqlite-store.js";
import { leasedCopy } from "./store/store-conformance.js";
import type { DistributorStore } from "./store/store.js";
import { TaskNotGivenError } from "./errors.js";
import { WorkHub, type WorkBatch, type WorkHubSettings } from "./work-hub.js";

const log = pino({ level: "silent" });

function ok(copyId: string): TaskResult {
  return create(TaskResultSchema, { copyId, outcome: { case: "output", value: new Uint8Array([1]) } });
}

function failed(copyId: string): TaskResult {
  return create(TaskResultSchema, { copyId, outcome: { case: "error", value: { kind: "exception", message: "no" } } });
}

function copyIds(batch: IteratorResult<WorkBatch>): string[] {
  return batch.done === true ? [] : batch.value.tasks.map((t) => t.copyId);
}

/** Resolves once `condition` holds (checked every few ms). */
async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe("WorkHub", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup(
    copies: number,
    settings: Partial<WorkHubSettings> = {},
    clock: { now?: () => number } = {},
  ): Promise<{ hub: WorkHub; store: DistributorStore; dir: string }> {
    const dir = await mkdtemp(join(tmpdir(), "disio-hub-"));
    const store = openSqliteStore({ path: join(dir, "distributor.sqlite") });
    cleanups.push(async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    });
    await store.addLeased(Array.from({ length: copies }, (_, i) => leasedCopy(i + 1)));
    const hub = new WorkHub({
      store,
      log,
      now: clock.now,
      settings: { taskLeaseMs: 60_000, workBatch: 100, workBatchBytes: 1e9, keepAliveMs: 200, maxReportResults: 100, heartbeatMs: 60_000, ...settings },
    });
    return { hub, store, dir };
  }

  it("records one stay per visit: a stream reopened within sessionGapMs continues the session, its stay ends at the last stream's end", async () => {
    let now = 1_000_000;
    const { hub } = await setup(0, { sessionGapMs: 60_000 }, { now: () => now });
    hub.joined("v", "browser");
    const visit = async () => {
      const connection = new AbortController();
      const stream = hub.work("v", 1, connection.signal);
      const ended = stream.next();
      connection.abort();
      await ended;
    };
    await visit();
    now += 30_000;
    await hub.sweep();
    expect(hub.takeEndedSessions()).toEqual([]);
    // The tab shown again 30 s later: the same session, still a browser's.
    await visit();
    now += 59_999;
    await hub.sweep();
    expect(hub.takeEndedSessions()).toEqual([]);
    now += 1;
    await hub.sweep();
    expect(hub.takeEndedSessions()).toEqual([{ clientId: "v", platform: "browser", joinedAtMs: 1_000_000, lastSeenMs: 1_030_000, results: 0 }]);
    await hub.sweep();
    expect(hub.takeEndedSessions()).toEqual([]);
  });

  it("lets a gone client's farewell settle its copies before the stream's end requeues them", async () => {
    const { hub, store } = await setup(4, { farewellGraceMs: 30_000 });
    hub.joined("a", "browser");
    const connection = new AbortController();
    const stream = hub.work("a", 4, connection.signal);
    expect(copyIds(await stream.next())).toEqual(["c1", "c2", "c3", "c4"]);
    const ended = stream.next();
    // A page unloading: its connection closes, then its keepalive farewell arrives.
    connection.abort();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await store.counts()).ready).toBe(0);
    expect(await hub.report("a", [ok("c1")], ["c2", "c3", "c4"])).toMatchObject({ accepted: 1, requeued: 3 });
    // The farewell settled every copy: the grace ends at once (not after 30 s), nothing more requeued.
    expect((await ended).done).toBe(true);
    expect(await store.counts()).toMatchObject({ ready: 3, given: 0, results: 1 });
  });

  it("requeues a gone client's copies once the farewell grace passed without a farewell", async () => {
    const { hub, store } = await setup(2, { farewellGraceMs: 300 });
    hub.joined("a", "browser");
    const connection = new AbortController();
    const stream = hub.work("a", 2, connection.signal);
    expect(copyIds(await stream.next())).toEqual(["c1", "c2"]);
    const ended = stream.next();
    connection.abort();
    await ended;
    expect(await store.counts()).toMatchObject({ ready: 2, given: 0 });
  });

  it("lets reports free the credit of a stream that replaced one of the same client", async () => {
    const { hub } = await setup(9);
    hub.joined("a", "node");
    const first = hub.work("a", 3, new AbortController().signal);
    expect(copyIds(await first.next())).toEqual(["c1", "c2", "c3"]);
    const second = hub.work("a", 3, new AbortController().signal);
    const opened = second.next();
    // The first stream resumes (as the server would after its write) and sees it was replaced.
    expect((await first.next()).done).toBe(true);
    // Its unreported copies were requeued in front, and come back on the second stream.
    expect(copyIds(await opened).sort()).toEqual(["c1", "c2", "c3"]);
    await hub.report("a", [ok("c1"), ok("c2"), ok("c3")]);
    expect(copyIds(await second.next())).toEqual(["c4", "c5", "c6"]);
    await hub.report("a", [ok("c4")]);
    expect(copyIds(await second.next())).toEqual(["c7"]);
    expect(hub.connectedClients).toBe(1);
    await second.return(undefined);
  });

  it("lists the copies given since the last look and not reported yet, each once", async () => {
    const { hub } = await setup(10);
    hub.joined("a", "node");
    hub.joined("b", "node");
    const a = hub.work("a", 3, new AbortController().signal);
    const b = hub.work("b", 2, new AbortController().signal);
    expect(copyIds(await a.next())).toEqual(["c1", "c2", "c3"]);
    expect(copyIds(await b.next())).toEqual(["c4", "c5"]);
    await hub.report("a", [ok("c2")]);
    expect(hub.takeGivenCopies()).toEqual([
      { copyId: "c1", clientId: "a" },
      { copyId: "c3", clientId: "a" },
      { copyId: "c4", clientId: "b" },
      { copyId: "c5", clientId: "b" },
    ]);
    expect(hub.takeGivenCopies()).toEqual([]);
    expect(copyIds(await a.next())).toEqual(["c6"]);
    expect(hub.takeGivenCopies()).toEqual([{ copyId: "c6", clientId: "a" }]);
    // A client that vanishes before the heartbeat: its unreported copies are still its own.
    await hub.report("a", [ok("c1"), ok("c3")]);
    expect(copyIds(await a.next())).toEqual(["c7", "c8"]);
    await a.return(undefined);
    expect(hub.takeGivenCopies()).toEqual([
      { copyId: "c7", clientId: "a" },
      { copyId: "c8", clientId: "a" },
    ]);
    await b.return(undefined);
  });

  it("requeues, when a replaced stream ends late, only its own unreported copies", async () => {
    const { hub, store } = await setup(10, { sessionGapMs: 1 });
    hub.joined("a", "node");
    const first = hub.work("a", 3, new AbortController().signal);
    expect(copyIds(await first.next())).toEqual(["c1", "c2", "c3"]);
    await hub.report("a", [ok("c1")]);
    // The first stream is stuck in its write: the second one starts after the replace wait.
    const second = hub.work("a", 3, new AbortController().signal);
    expect(copyIds(await second.next())).toEqual(["c4", "c5", "c6"]);
    await hub.report("a", [ok("c2")]);
    expect(await first.return(undefined)).toEqual({ done: true, value: undefined });
    // c3 (the first stream's, unreported) is ready again; c4..c6 stay with the second stream.
    expect(await store.counts()).toMatchObject({ held: 8, ready: 5, given: 3, results: 2 });
    await hub.report("a", [ok("c4")]);
    expect(copyIds(await second.next())).toEqual(["c3"]);
    expect(hub.connectedClients).toBe(1);
    await second.return(undefined);
    expect((await store.counts()).given).toBe(0);
    expect(hub.connectedClients).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await hub.sweep();
    expect(hub.takeEndedSessions().map((s) => ({ clientId: s.clientId, results: s.results }))).toEqual([{ clientId: "a", results: 3 }]);
  });

  it("frees the credit of a copy handed again to a new session when the old session reports it (restart, rejoin)", async () => {
    const { hub, store, dir } = await setup(6);
    hub.joined("old", "node");
    const before = hub.work("old", 3, new AbortController().signal);
    expect(copyIds(await before.next())).toEqual(["c1", "c2", "c3"]);
    // kill -9: the store reopens with every held copy ready again; the client rejoins as "new".
    await store.close();
    const reopened = openSqliteStore({ path: join(dir, "distributor.sqlite") });
    cleanups.push(() => reopened.close());
    const restarted = new WorkHub({
      store: reopened,
      log,
      settings: { taskLeaseMs: 60_000, workBatch: 100, workBatchBytes: 1e9, keepAliveMs: 200, maxReportResults: 100, heartbeatMs: 60_000 },
    });
    restarted.joined("new", "node");
    const after = restarted.work("new", 3, new AbortController().signal);
    expect(copyIds(await after.next())).toEqual(["c1", "c2", "c3"]);
    // The old session's results (it was given them) are stored and free the new stream's credit.
    expect(await restarted.report("old", [ok("c1"), ok("c2"), ok("c3")])).toMatchObject({ accepted: 3, refusedCopyIds: [] });
    expect(copyIds(await after.next())).toEqual(["c4", "c5", "c6"]);
    await after.return(undefined);
  });

  it("stores what was given and lists the rest as refused; refuses a batch with nothing given", async () => {
    const { hub, store } = await setup(4);
    hub.joined("a", "node");
    hub.joined("b", "node");
    const a = hub.work("a", 2, new AbortController().signal);
    expect(copyIds(await a.next())).toEqual(["c1", "c2"]);
    const b = hub.work("b", 2, new AbortController().signal);
    expect(copyIds(await b.next())).toEqual(["c3", "c4"]);
    expect(await hub.report("a", [ok("c1"), ok("c3"), ok("nope")])).toEqual({ accepted: 1, duplicates: 0, refusedCopyIds: ["c3", "nope"], requeued: 0 });
    await expect(hub.report("a", [ok("c4")])).rejects.toThrow(TaskNotGivenError);
    expect((await store.counts()).results).toBe(1);
    await a.return(undefined);
    await b.return(undefined);
  });

  it("takes returned copies back at once for other clients, freeing the returner's credit", async () => {
    const { hub } = await setup(3);
    hub.joined("a", "node");
    hub.joined("b", "node");
    const a = hub.work("a", 2, new AbortController().signal);
    expect(copyIds(await a.next())).toEqual(["c1", "c2"]);
    const b = hub.work("b", 2, new AbortController().signal);
    expect(copyIds(await b.next())).toEqual(["c3"]);
    // Copies not held by a (c3, unknown) are ignored.
    expect(await hub.report("a", [], ["c1", "c3", "zz"])).toMatchObject({ accepted: 0, requeued: 1 });
    expect(copyIds(await b.next())).toEqual(["c1"]);
    await a.return(undefined);
    await b.return(undefined);
  });

  it("ends the stream of a client silent too long while holding tasks and requeues its tasks at once", async () => {
    let now = 1_000_000;
    const { hub, store } = await setup(4, { heartbeatMs: 1_000 }, { now: () => now });
    hub.joined("frozen", "node");
    hub.joined("alive", "node");
    const frozen = hub.work("frozen", 2, new AbortController().signal);
    expect(copyIds(await frozen.next())).toEqual(["c1", "c2"]);
    now += 2_500;
    await hub.report("frozen", []); // a heartbeat: still alive at 2.5 s
    now += 3_000;
    expect(await hub.sweep()).toBe(0);
    now += 1;
    expect(await hub.sweep()).toBe(2);
    expect(await store.counts()).toMatchObject({ ready: 4, given: 0 });
    const alive = hub.work("alive", 4, new AbortController().signal);
    expect(copyIds(await alive.next()).sort()).toEqual(["c1", "c2", "c3", "c4"]);
    // The frozen client wakes up: its stream has ended; its late results are still welcome.
    expect((await frozen.next()).done).toBe(true);
    expect(await hub.report("frozen", [ok("c1")])).toMatchObject({ accepted: 1 });
    await alive.return(undefined);
  });

  it("on copies becoming ready, runs only streams with free credit, once for a burst of changes", async () => {
    let clockReads = 0;
    const { hub, store } = await setup(10, { keepAliveMs: 60_000 }, { now: () => (clockReads++, Date.now()) });
    const busy = Array.from({ length: 10 }, (_, i) => {
      hub.joined(`busy-${i}`, "node");
      return hub.work(`busy-${i}`, 1, new AbortController().signal);
    });
    for (const stream of busy) expect(copyIds(await stream.next())).toHaveLength(1);
    // As the server does after each write: the busy streams wait for their next message.
    const busyNext = busy.map((stream) => stream.next());
    hub.joined("hungry", "node");
    const hungry = hub.work("hungry", 1, new AbortController().signal);
    const next = hungry.next();
    // Let every stream park: the busy ones with no credit, the hungry one finding nothing.
    await new Promise((resolve) => setTimeout(resolve, 20));
    clockReads = 0;
    for (let i = 0; i < 50; i++) await store.addLeased([leasedCopy(100 + i)]);
    expect(copyIds(await next)).toEqual(["c100"]);
    // The hungry stream looked a few times; the ten busy ones did not run at all (50 wake-ups each before).
    expect(clockReads).toBeLessThan(10);
    await hub.close(100);
    await Promise.all(busyNext);
  });

  it("on copies becoming ready, wakes a few of many waiting streams and passes on to the next while copies last", async () => {
    const { hub, store } = await setup(0, { keepAliveMs: 60_000 });
    let looks = 0;
    const takeReady = store.takeReady.bind(store);
    store.takeReady = (request) => (looks++, takeReady(request));
    const streams = Array.from({ length: 300 }, (_, i) => {
      hub.joined(`idle-${i}`, "node");
      return hub.work(`idle-${i}`, 1, new AbortController().signal);
    });
    let served = 0;
    const nexts = streams.map((stream) => stream.next().then((batch) => (served += copyIds(batch).length)));
    // Let every stream park, finding nothing.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(looks).toBe(300);
    looks = 0;
    await store.addLeased([leasedCopy(1), leasedCopy(2), leasedCopy(3)]);
    await waitUntil(() => served === 3);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // A few looks (the first batch of waiters and the passes on), not one per idle client.
    expect(looks).toBeLessThanOrEqual(64 + 3);
    // More copies than one batch of waiters: passed on stream to stream until each has its copy.
    await store.addLeased(Array.from({ length: 200 }, (_, i) => leasedCopy(10 + i)));
    await waitUntil(() => served === 203);
    await hub.close(100);
    await Promise.all(nexts);
  });

  it("tells joining clients a longer heartbeat interval once their heartbeats would pass 200 a second", async () => {
    const { hub } = await setup(0, { heartbeatMs: 1_000 });
    const intervals = Array.from({ length: 400 }, (_, i) => hub.joined(`client-${i}`, "node"));
    expect(intervals[0]).toBe(1_000);
    expect(intervals[199]).toBe(1_000);
    expect(intervals[399]).toBe(2_000);
  });

  it("stops counting an idle client silent too long as connected, at once, though its stream is still open", async () => {
    let now = 1_000_000;
    const { hub } = await setup(0, { heartbeatMs: 1_000, keepAliveMs: 60_000 }, { now: () => now });
    hub.joined("idle", "node");
    hub.joined("frozen", "node");
    const closeIdle = new AbortController();
    const idle = hub.work("idle", 2, closeIdle.signal);
    const frozen = hub.work("frozen", 2, new AbortController().signal);
    // Both streams wait for work (nothing is ready): open, with no message yet.
    const [idleNext, frozenNext] = [idle.next(), frozen.next()];
    expect(hub.connectedClients).toBe(2);
    now += 2_500;
    await hub.report("idle", []); // an idle client's heartbeat
    now += 400;
    await hub.sweep();
    expect(hub.connectedClients).toBe(2);
    now += 200; // frozen: silent 3.1 s, more than three 1 s intervals; idle: 0.6 s
    expect(await hub.sweep()).toBe(0);
    expect(hub.connectedClients).toBe(1);
    expect((await frozenNext).done).toBe(true);
    closeIdle.abort();
    expect((await idleNext).done).toBe(true);
  });

  it("holds back, to one task at a time, a client whose every result is an error while another succeeds", async () => {
    let now = 1_000_000;
    const { hub } = await setup(40, {}, { now: () => now });
    hub.joined("liar", "node");
    hub.joined("honest", "node");
    const honest = hub.work("honest", 1, new AbortController().signal);
    const [first] = copyIds(await honest.next());
    await hub.report("honest", [ok(first!)]);
    const liar = hub.work("liar", 10, new AbortController().signal);
    const given = copyIds(await liar.next());
    expect(given).toHaveLength(10);
    await hub.report("liar", given.map(failed));
    // Ten errors in a row while "honest" succeeds: one task, and only after a pause.
    const next = liar.next();
    const raced = await Promise.race([next, new Promise((r) => setTimeout(() => r("waiting"), 300))]);
    expect(raced).toBe("waiting");
    now += 30_001;
    hub.notifyReady();
    expect(copyIds(await next)).toHaveLength(1);
    await liar.return(undefined);
    await honest.return(undefined);
  });

  describe("distinct volunteers per unit", () => {
    const ka = { clientKey: "k-a", clientHost: "" };
    const kb = { clientKey: "k-b", clientHost: "" };
    /** Two copies of unit u1 (c1, c2) and one of u3. */
    async function twoCopiesOfOneUnit(settings: Partial<WorkHubSettings> = {}, clock: { now?: () => number } = {}) {
      const made = await setup(0, settings, clock);
      await made.store.addLeased([leasedCopy(1), { ...leasedCopy(2), unitId: "u1" }, leasedCopy(3)]);
      return made;
    }

    it("gives a unit's second copy to another volunteer, never to a second session of the same install", async () => {
      const { hub } = await twoCopiesOfOneUnit();
      hub.joined("a1", "node", ka);
      hub.joined("a2", "node", ka);
      hub.joined("b", "node", kb);
      const a1 = hub.work("a1", 10, new AbortController().signal);
      expect(copyIds(await a1.next())).toEqual(["c1", "c3"]);
      const a2 = hub.work("a2", 10, new AbortController().signal);
      const sybil = a2.next();
      const b = hub.work("b", 10, new AbortController().signal);
      expect(copyIds(await b.next())).toEqual(["c2"]);
      // The Sybil session only ever gets keep-alives.
      expect(await sybil).toMatchObject({ value: { tasks: [] } });
      await Promise.all([a1.return(undefined), a2.return(undefined), b.return(undefined)]);
    });

    it("tells hosts apart too: a second install on one IP is the same volunteer", async () => {
      const { hub } = await twoCopiesOfOneUnit();
      hub.joined("a", "node", { clientKey: "k-a", clientHost: "198.51.100.1" });
      hub.joined("c", "node", { clientKey: "k-c", clientHost: "198.51.100.1" });
      hub.joined("b", "node", { clientKey: "k-b", clientHost: "198.51.100.2" });
      const a = hub.work("a", 1, new AbortController().signal);
      expect(copyIds(await a.next())).toEqual(["c1"]);
      const c = hub.work("c", 10, new AbortController().signal);
      expect(copyIds(await c.next())).toEqual(["c3"]);
      const b = hub.work("b", 10, new AbortController().signal);
      expect(copyIds(await b.next())).toEqual(["c2"]);
      await Promise.all([a.return(undefined), b.return(undefined), c.return(undefined)]);
    });

    it("lets two streams that may not have the copies left wait, instead of waking each other without end", async () => {
      const { hub, store } = await twoCopiesOfOneUnit({ selfCopyDelayMs: 60_000, keepAliveMs: 60_000 });
      let looks = 0;
      const takeReady = store.takeReady.bind(store);
      store.takeReady = (request) => (looks++, takeReady(request));
      // Two sessions of one install (as two workers on one machine share a host): c2 is refused to both.
      hub.joined("a1", "node", ka);
      hub.joined("a2", "node", ka);
      const a1 = hub.work("a1", 10, new AbortController().signal);
      expect(copyIds(await a1.next())).toEqual(["c1", "c3"]);
      const a1Next = a1.next();
      const a2 = hub.work("a2", 10, new AbortController().signal);
      const a2Next = a2.next();
      await new Promise((resolve) => setTimeout(resolve, 200));
      // A few looks each; before, each refusal woke the other stream, which looked and woke the
      // first again: thousands of looks, and a distributor too busy to answer pings.
      expect(looks).toBeLessThan(10);
      await hub.close(100);
      await Promise.all([a1Next, a2Next]);
    });

    it("gives a refused copy to the only volunteer once it waited selfCopyDelayMs, so a one-client grid finishes", async () => {
      let now = 1_000_000;
      const { hub } = await twoCopiesOfOneUnit({ selfCopyDelayMs: 1_000, keepAliveMs: 60_000 }, { now: () => now });
      hub.joined("a", "node", ka);
      const a = hub.work("a", 10, new AbortController().signal);
      expect(copyIds(await a.next())).toEqual(["c1", "c3"]);
      const next = a.next();
      expect(await Promise.race([next, new Promise((r) => setTimeout(() => r("waiting"), 200))])).toBe("waiting");
      now += 1_000;
      hub.notifyReady();
      expect(copyIds(await next)).toEqual(["c2"]);
      await a.return(undefined);
    });
  });
});
