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
import { WorkHub, type WorkBatch } from "./work-hub.js";

const log = pino({ level: "silent" });

function ok(copyId: string): TaskResult {
  return create(TaskResultSchema, { copyId, outcome: { case: "output", value: new Uint8Array([1]) } });
}

function copyIds(batch: IteratorResult<WorkBatch>): string[] {
  return batch.done === true ? [] : batch.value.tasks.map((t) => t.copyId);
}

describe("WorkHub", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function setup(copies: number): Promise<{ hub: WorkHub; store: DistributorStore }> {
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
      settings: { taskLeaseMs: 60_000, workBatch: 100, workBatchBytes: 1e9, keepAliveMs: 200, maxReportResults: 100 },
    });
    return { hub, store };
  }

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
    const { hub, store } = await setup(10);
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
    expect(hub.takeEndedSessions().map((s) => ({ clientId: s.clientId, results: s.results }))).toEqual([{ clientId: "a", results: 3 }]);
  });
});
