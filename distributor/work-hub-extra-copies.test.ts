import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, fromBinary } from "@bufbuild/protobuf";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { TaskResultSchema, type TaskResult } from "../gen/disio/v1/common_pb.js";
import { TaskNotGivenError } from "./errors.js";
import { ExtraCopies } from "./extra-copies.js";
import { scanTask } from "./raw-task.js";
import { openSqliteStore } from "./store/sqlite/sqlite-store.js";
import { leasedCopy } from "./store/store-conformance.js";
import type { DistributorStore } from "./store/store.js";
import { WorkHub, type WorkBatch } from "./work-hub.js";

const log = pino({ level: "silent" });

function ok(copyId: string): TaskResult {
  return create(TaskResultSchema, { copyId, outcome: { case: "output", value: new Uint8Array([1]) } });
}

/** The next message with tasks: its tasks as [copy id in the task bytes, unit id]. */
async function nextTasks(stream: AsyncGenerator<WorkBatch>): Promise<Array<[string, string]>> {
  for (;;) {
    const batch = await stream.next();
    if (batch.done === true) return [];
    if (batch.value.tasks.length > 0) return batch.value.tasks.map((t) => [scanTask(t.task).copyId, t.unitId]);
  }
}

describe("WorkHub extra copies", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A hub over `copies` leased copies; `signal` ends its clients' streams at the test's end. */
  async function setup(copies: number, perUnit: number, keepAliveMs = 50): Promise<{ hub: WorkHub; store: DistributorStore; link: { up: boolean }; signal: AbortSignal }> {
    const dir = await mkdtemp(join(tmpdir(), "disio-hub-extra-"));
    const store = openSqliteStore({ path: join(dir, "distributor.sqlite") });
    const connections = new AbortController();
    cleanups.push(async () => {
      connections.abort();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    });
    await store.addLeased(Array.from({ length: copies }, (_, i) => leasedCopy(i + 1)));
    const link = { up: true };
    const hub = new WorkHub({
      store,
      log,
      settings: { taskLeaseMs: 60_000, workBatch: 100, workBatchBytes: 1e9, keepAliveMs, maxReportResults: 100, heartbeatMs: 60_000 },
      extraCopies: new ExtraCopies({ perUnit, maxBytes: 1e6 }),
      managerReachable: () => link.up,
    });
    cleanups.push(() => hub.close(100));
    return { hub, store, link, signal: connections.signal };
  }

  it("re-serves held units to other clients once no manager answers, and stores their results as extras of the leased copies", async () => {
    const { hub, store, link, signal } = await setup(2, 2);
    for (const client of ["a", "b", "c"]) hub.joined(client, "node");
    const a = hub.work("a", 1, signal);
    const b = hub.work("b", 1, signal);
    expect(await nextTasks(a)).toEqual([["c1", "u1"]]);
    expect(await nextTasks(b)).toEqual([["c2", "u2"]]);
    link.up = false;
    const c = hub.work("c", 2, signal);
    const extras = await nextTasks(c);
    expect(extras.map(([, unitId]) => unitId)).toEqual(["u1", "u2"]);
    const [x1, x2] = extras.map(([copyId]) => copyId) as [string, string];
    expect(x1).toMatch(/^c1~[0-9a-f]{6}1$/);
    expect(x2).toMatch(/^c2~[0-9a-f]{6}1$/);

    // Only the client an extra was given to may report it.
    await expect(hub.report("b", [ok(x1)])).rejects.toBeInstanceOf(TaskNotGivenError);
    expect(await hub.report("a", [ok("c1")])).toMatchObject({ accepted: 1 });
    // a computed u1: its next copy is an extra of u2, the unit it never had.
    expect(await nextTasks(a)).toEqual([[expect.stringMatching(/^c2~[0-9a-f]{6}2$/), "u2"]]);
    expect(await hub.report("c", [ok(x1), ok(x2)])).toMatchObject({ accepted: 2, refusedCopyIds: [] });
    const pending = (await store.pendingResults(10)).map((r) => {
      const decoded = fromBinary(TaskResultSchema, r.result);
      return [decoded.copyId, decoded.unitId, decoded.extraOfCopyId, decoded.clientId];
    });
    expect(pending).toEqual([
      ["c1", "u1", "", "a"],
      [x1, "u1", "c1", "c"],
      [x2, "u2", "c2", "c"],
    ]);
    // The manager is back: no more extras, and the acknowledged units are not re-served later.
    link.up = true;
    hub.acknowledged(["c1"]);
    expect(await hub.report("c", [])).toMatchObject({ accepted: 0 });
    link.up = false;
    hub.joined("d", "node");
    const d = hub.work("d", 5, signal);
    // u2 has had its two extras (c's and a's): nothing is left for d.
    const next = await Promise.race([nextTasks(d), new Promise((r) => setTimeout(() => r("nothing"), 300))]);
    expect(next).toBe("nothing");
  });

  it("wakes the streams waiting for copies when an outage begins (at the next sweep)", async () => {
    const { hub, link, signal } = await setup(1, 2, 60_000);
    hub.joined("a", "node");
    hub.joined("b", "node");
    expect(await nextTasks(hub.work("a", 1, signal))).toEqual([["c1", "u1"]]);
    const b = hub.work("b", 1, signal);
    const waiting = nextTasks(b);
    await hub.sweep();
    // b found nothing and sleeps (keep-alives every minute only).
    await new Promise((r) => setTimeout(r, 200));
    link.up = false;
    await hub.sweep();
    const next = await Promise.race([waiting, new Promise((r) => setTimeout(() => r("nothing"), 5_000))]);
    expect(next).toEqual([[expect.stringMatching(/^c1~/), "u1"]]);
  });

  it("makes no extra copies while a manager answers or when turned off", async () => {
    for (const [perUnit, up] of [[2, true], [0, false]] as const) {
      const { hub, link, signal } = await setup(1, perUnit);
      hub.joined("a", "node");
      hub.joined("b", "node");
      expect(await nextTasks(hub.work("a", 1, signal))).toEqual([["c1", "u1"]]);
      link.up = up;
      const next = await Promise.race([nextTasks(hub.work("b", 1, signal)), new Promise((r) => setTimeout(() => r("nothing"), 300))]);
      expect(next).toBe("nothing");
    }
  });
});
