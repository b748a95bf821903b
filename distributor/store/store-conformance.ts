import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { afterEach, describe, expect, it } from "vitest";
import { TaskSchema } from "../../gen/disio/v1/common_pb.js";
import type { DistributorStore, LeasedCopy, StoreChange, StoredResult } from "./store.js";

/**
 * Creates a store for one test. `reopen` closes nothing itself: the suite closes the first store
 * and then asks for a second one over the same data (to prove durability). `peer`, for backends
 * that let several processes share one store (a pool), opens another store over the same data
 * while the first stays open. `cleanup` runs after each test.
 */
export interface StoreFactory {
  /** A fresh, empty store with its own data. */
  create(): Promise<{
    store: DistributorStore;
    reopen: () => Promise<DistributorStore>;
    peer?: () => Promise<DistributorStore>;
    cleanup: () => Promise<void>;
  }>;
}

/** Resolves once `condition` holds, polling every few ms; rejects after `timeoutMs`. */
async function eventually(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const T0 = 1_700_000_000_000;

/** The bytes of the copies' tasks, as a store's `heldBytes` counts them. */
function bytesOf(copies: LeasedCopy[]): number {
  return copies.reduce((sum, c) => sum + c.task.byteLength, 0);
}

/** A leased copy for tests: `c<n>` of unit `u<n>` in `project` with `priority`. */
export function leasedCopy(n: number, project = "p1", priority = 0): LeasedCopy {
  const copyId = `c${n}`;
  const unitId = `u${n}`;
  return {
    copyId,
    unitId,
    projectId: project,
    priority,
    leaseDeadlineMs: T0 + 60_000,
    renewAtMs: T0 + 30_000,
    task: toBinary(TaskSchema, create(TaskSchema, {
      copyId,
      unitId,
      projectId: project,
      programHash: "ab".repeat(32),
      input: new TextEncoder().encode(JSON.stringify(n)),
      priority,
      deadline: timestampFromMs(T0 + 60_000),
    })),
  };
}

function result(copyId: string, unitId: string, clientId: string, byte = 7): StoredResult {
  return { copyId, unitId, clientId, receivedAtMs: T0, result: new Uint8Array([byte, byte]) };
}

function ids(copies: { copyId: string }[]): string[] {
  return copies.map((c) => c.copyId);
}

/**
 * Registers the conformance tests every {@link DistributorStore} backend must pass. Call it inside a
 * test file: `storeConformance("sqlite", factory)`.
 */
export function storeConformance(name: string, factory: StoreFactory): void {
  describe(`DistributorStore conformance: ${name}`, () => {
    const opened: { store: DistributorStore; cleanup: () => Promise<void> }[] = [];
    afterEach(async () => {
      for (const { store, cleanup } of opened.splice(0)) {
        await store.close().catch(() => undefined);
        await cleanup();
      }
    });
    async function fresh() {
      const made = await factory.create();
      opened.push(made);
      return made;
    }

    it("gives ready copies by priority, then age, and skips paused projects", async () => {
      const { store } = await fresh();
      expect(await store.addLeased([leasedCopy(1), leasedCopy(2, "p2"), leasedCopy(3, "p1", 5), leasedCopy(4)])).toBe(4);
      expect(await store.addLeased([leasedCopy(1)])).toBe(0);
      const first = await store.takeReady({ clientId: "a", max: 2, nowMs: T0, clientDeadlineMs: T0 + 1000, skipProjects: new Set(["p2"]) });
      expect(ids(first)).toEqual(["c3", "c1"]);
      expect(fromBinary(TaskSchema, first[0]?.task as Uint8Array).unitId).toBe("u3");
      expect(first[0]?.clientDeadlineMs).toBe(T0 + 1000);
      const heldBytes = bytesOf([leasedCopy(1), leasedCopy(2, "p2"), leasedCopy(3, "p1", 5), leasedCopy(4)]);
      expect(await store.counts(new Set(["p2"]))).toEqual({ held: 4, heldBytes, ready: 1, given: 2, results: 0 });
      const rest = await store.takeReady({ clientId: "b", max: 10, nowMs: T0, clientDeadlineMs: T0 + 1000 });
      expect(ids(rest)).toEqual(["c2", "c4"]);
      expect(await store.takeReady({ clientId: "b", max: 10, nowMs: T0, clientDeadlineMs: T0 + 1000 })).toEqual([]);
    });

    it("keeps the manager's project order: a unit priority ranks copies only within its project", async () => {
      const { store } = await fresh();
      // p1 leased first (the manager ranked it higher); p2's unit priority 9 does not jump ahead of it.
      await store.addLeased([leasedCopy(1, "p1"), leasedCopy(2, "p1"), leasedCopy(3, "p2", 9), leasedCopy(4, "p1", 1)]);
      const taken = await store.takeReady({ clientId: "a", max: 10, nowMs: T0, clientDeadlineMs: T0 + 1000 });
      expect(ids(taken)).toEqual(["c4", "c1", "c2", "c3"]);
    });

    it("gives at most maxBytes of tasks (always one), leaving the rest ready in order", async () => {
      const { store } = await fresh();
      const copies = [1, 2, 3, 4, 5].map((n) => leasedCopy(n));
      await store.addLeased(copies);
      const take = (maxBytes: number) => store.takeReady({ clientId: "a", max: 10, nowMs: T0, clientDeadlineMs: T0 + 1000, maxBytes });
      expect(ids(await take(bytesOf(copies.slice(0, 2)) + 1))).toEqual(["c1", "c2"]);
      expect(ids(await take(1))).toEqual(["c3"]);
      expect(await store.counts()).toMatchObject({ ready: 2, given: 3 });
      expect(ids(await take(Number.POSITIVE_INFINITY))).toEqual(["c4", "c5"]);
      expect(await store.requeueExpiredClientLeases(T0 + 1000)).toBe(5);
    });

    it("skips the copies skipCopy refuses, leaving them first in line, and tells since when they were refused", async () => {
      const { store } = await fresh();
      await store.addLeased([1, 2, 3, 4].map((n) => leasedCopy(n)));
      const seen: Array<[string, number]> = [];
      const refuse = (units: string[]) => ({ unitId, refusedSinceMs }: { unitId: string; refusedSinceMs: number }) => {
        seen.push([unitId, refusedSinceMs]);
        return units.includes(unitId);
      };
      const a = await store.takeReady({ clientId: "a", max: 2, nowMs: T0, clientDeadlineMs: T0 + 1000, skipCopy: refuse(["u1", "u2"]) });
      expect(ids(a)).toEqual(["c3", "c4"]);
      expect(seen).toEqual([["u1", T0], ["u2", T0], ["u3", T0], ["u4", T0]]);
      seen.length = 0;
      expect(await store.counts()).toMatchObject({ ready: 2, given: 2 });
      expect(await store.takeReady({ clientId: "a", max: 5, nowMs: T0 + 50, clientDeadlineMs: T0 + 1000, skipCopy: refuse(["u1", "u2"]) })).toEqual([]);
      expect(seen).toEqual([["u1", T0], ["u2", T0]]);
      const b = await store.takeReady({ clientId: "b", max: 1, nowMs: T0 + 100, clientDeadlineMs: T0 + 1000, skipCopy: refuse([]) });
      expect(ids(b)).toEqual(["c1"]);
      await store.requeueClient("b", ["c1"]);
      seen.length = 0;
      await store.takeReady({ clientId: "a", max: 5, nowMs: T0 + 200, clientDeadlineMs: T0 + 1000, skipCopy: refuse(["u1", "u2"]) });
      expect(seen).toEqual([["u1", T0 + 200], ["u2", T0]]);
    });

    it("remembers which client was given which copy", async () => {
      const { store } = await fresh();
      await store.addLeased([leasedCopy(1), leasedCopy(2)]);
      await store.takeReady({ clientId: "a", max: 1, nowMs: T0, clientDeadlineMs: T0 + 1000 });
      expect([...(await store.wasGiven("a", ["c1", "c2", "nope"]))]).toEqual([["c1", "u1"]]);
      expect((await store.wasGiven("b", ["c1"])).size).toBe(0);
      await store.requeueClient("a", ["c1"]);
      await store.takeReady({ clientId: "b", max: 5, nowMs: T0, clientDeadlineMs: T0 + 1000 });
      expect([...(await store.wasGiven("a", ["c1"]))]).toEqual([["c1", "u1"]]);
      expect([...(await store.wasGiven("b", ["c1", "c2"])).keys()].sort()).toEqual(["c1", "c2"]);
    });

    it("requeues a client's copies, in front of fresh ones", async () => {
      const { store } = await fresh();
      await store.addLeased([leasedCopy(1), leasedCopy(2), leasedCopy(3)]);
      await store.takeReady({ clientId: "a", max: 2, nowMs: T0, clientDeadlineMs: T0 + 1000 });
      expect(await store.requeueClient("a", ["c1", "c2", "c3", "nope"])).toBe(2);
      expect(await store.requeueClient("a", ["c1", "c2"])).toBe(0);
      expect((await store.counts()).ready).toBe(3);
      const again = await store.takeReady({ clientId: "b", max: 3, nowMs: T0, clientDeadlineMs: T0 + 1000 });
      expect(ids(again).sort()).toEqual(["c1", "c2", "c3"]);
      expect(again[2]?.copyId).toBe("c3");
    });

    it("requeues only the listed copies still given to the client", async () => {
      const { store } = await fresh();
      await store.addLeased([leasedCopy(1), leasedCopy(2), leasedCopy(3), leasedCopy(4)]);
      await store.takeReady({ clientId: "a", max: 3, nowMs: T0, clientDeadlineMs: T0 + 1000 });
      await store.takeReady({ clientId: "b", max: 1, nowMs: T0, clientDeadlineMs: T0 + 1000 });
      await store.storeResults([result("c1", "u1", "a")]);
      expect(await store.requeueClient("a", ["c1", "c2", "c4"])).toBe(1);
      expect(await store.counts()).toEqual({ held: 3, heldBytes: bytesOf([2, 3, 4].map((n) => leasedCopy(n))), ready: 1, given: 2, results: 1 });
      expect([...(await store.wasGiven("b", ["c4"])).keys()]).toEqual(["c4"]);
      expect(ids(await store.takeReady({ clientId: "c", max: 5, nowMs: T0, clientDeadlineMs: T0 + 1000 }))).toEqual(["c2"]);
    });

    it("requeues copies whose client lease ended", async () => {
      const { store } = await fresh();
      await store.addLeased([leasedCopy(1), leasedCopy(2)]);
      await store.takeReady({ clientId: "a", max: 1, nowMs: T0, clientDeadlineMs: T0 + 1000 });
      await store.takeReady({ clientId: "b", max: 1, nowMs: T0, clientDeadlineMs: T0 + 5000 });
      expect(await store.requeueExpiredClientLeases(T0 + 999)).toBe(0);
      expect(await store.requeueExpiredClientLeases(T0 + 1000)).toBe(1);
      const next = await store.takeReady({ clientId: "c", max: 5, nowMs: T0 + 1000, clientDeadlineMs: T0 + 9000 });
      expect(ids(next)).toEqual(["c1"]);
      expect(await store.requeueExpiredClientLeases(T0 + 5000)).toBe(1);
      expect(await store.requeueExpiredClientLeases(T0 + 9000)).toBe(1);
      expect((await store.counts()).ready).toBe(2);
    });

    it("stores results idempotently by copy id and drops the copy from the held set", async () => {
      const { store } = await fresh();
      await store.addLeased([leasedCopy(1), leasedCopy(2)]);
      await store.takeReady({ clientId: "a", max: 2, nowMs: T0, clientDeadlineMs: T0 + 1000 });
      expect(await store.storeResults([result("c1", "u1", "a"), result("c2", "u2", "a")])).toEqual({ accepted: 2, duplicates: 0 });
      expect(await store.storeResults([result("c1", "u1", "a", 9)])).toEqual({ accepted: 0, duplicates: 1 });
      expect(await store.counts()).toEqual({ held: 0, heldBytes: 0, ready: 0, given: 0, results: 2 });
      const pending = await store.pendingResults(10);
      expect(pending.map((r) => [r.copyId, r.unitId, r.clientId, r.receivedAtMs, [...r.result]])).toEqual([
        ["c1", "u1", "a", T0, [7, 7]],
        ["c2", "u2", "a", T0, [7, 7]],
      ]);
      expect(ids(await store.pendingResults(1))).toEqual(["c1"]);
      expect(await store.requeueExpiredClientLeases(T0 + 10_000)).toBe(0);
    });

    it("deletes results only when acknowledged", async () => {
      const { store } = await fresh();
      await store.storeResults([result("c1", "u1", "a"), result("c2", "u2", "a"), result("c3", "u3", "a")]);
      expect(await store.ackResults(["c1", "c3", "unknown"])).toBe(2);
      expect(ids(await store.pendingResults(10))).toEqual(["c2"]);
      expect((await store.counts()).results).toBe(1);
    });

    it("lists the copies it knows of: held and with an unacknowledged result, up to a limit", async () => {
      const { store } = await fresh();
      await store.addLeased([leasedCopy(1), leasedCopy(2), leasedCopy(3)]);
      await store.takeReady({ clientId: "a", max: 2, nowMs: T0, clientDeadlineMs: T0 + 1000 });
      await store.storeResults([result("c1", "u1", "a"), result("c4", "u4", "b")]);
      await store.ackResults(["c4"]);
      expect((await store.knownCopyIds(3))?.sort()).toEqual(["c1", "c2", "c3"]);
      expect(await store.knownCopyIds(2)).toBeUndefined();
    });

    it("drops copies by unit and by copy id, wherever they are", async () => {
      const { store } = await fresh();
      await store.addLeased([leasedCopy(1), leasedCopy(2), leasedCopy(3)]);
      await store.takeReady({ clientId: "a", max: 1, nowMs: T0, clientDeadlineMs: T0 + 1000 });
      expect(await store.dropCopies({ unitIds: ["u1", "u9"], copyIds: ["c3"] })).toBe(2);
      expect(await store.counts()).toEqual({ held: 1, heldBytes: bytesOf([leasedCopy(2)]), ready: 1, given: 0, results: 0 });
      expect(await store.requeueClient("a", ["c1", "c3"])).toBe(0);
      expect(ids(await store.takeReady({ clientId: "b", max: 5, nowMs: T0, clientDeadlineMs: T0 + 1000 }))).toEqual(["c2"]);
    });

    it("lists leases due for renewal and records renewals", async () => {
      const { store } = await fresh();
      await store.addLeased([leasedCopy(1), { ...leasedCopy(2), renewAtMs: T0 + 10_000 }]);
      expect((await store.dueForRenewal(T0 + 10_000, 10)).sort()).toEqual(["c2"]);
      expect((await store.dueForRenewal(T0 + 30_000, 10)).sort()).toEqual(["c1", "c2"]);
      expect(await store.dueForRenewal(T0 + 30_000, 1)).toHaveLength(1);
      await store.renewLeases([{ copyId: "c2", leaseDeadlineMs: T0 + 120_000, renewAtMs: T0 + 90_000 }, { copyId: "zz", leaseDeadlineMs: 1, renewAtMs: 1 }]);
      expect(await store.dueForRenewal(T0 + 30_000, 10)).toEqual(["c1"]);
    });

    it("prunes old assignments", async () => {
      const { store } = await fresh();
      await store.addLeased([leasedCopy(1)]);
      await store.takeReady({ clientId: "a", max: 1, nowMs: T0, clientDeadlineMs: T0 + 1000 });
      await store.storeResults([result("c1", "u1", "a")]);
      expect((await store.wasGiven("a", ["c1"])).size).toBe(1);
      expect(await store.pruneAssignments(T0)).toBe(0);
      expect(await store.pruneAssignments(T0 + 1)).toBe(1);
      expect((await store.wasGiven("a", ["c1"])).size).toBe(0);
    });

    it("forgets the assignments of given copies", async () => {
      const { store } = await fresh();
      await store.addLeased([leasedCopy(1), leasedCopy(2)]);
      await store.takeReady({ clientId: "a", max: 2, nowMs: T0, clientDeadlineMs: T0 + 1000 });
      await store.storeResults([result("c1", "u1", "a"), result("c2", "u2", "a")]);
      expect(await store.forgetAssignments(["c1", "zz"])).toBe(1);
      expect([...(await store.wasGiven("a", ["c1", "c2"])).keys()]).toEqual(["c2"]);
    });

    it("keeps secret, registration and programs", async () => {
      const { store } = await fresh();
      const secret = await store.ensureSecret(() => new Uint8Array([1, 2, 3]));
      expect([...secret]).toEqual([1, 2, 3]);
      expect([...(await store.ensureSecret(() => new Uint8Array([9])))]).toEqual([1, 2, 3]);
      expect(await store.loadRegistration()).toBeUndefined();
      await store.saveRegistration({ distributorId: "d1", groupId: "g", managerId: "m", managerPublicKey: new Uint8Array([4, 5]) });
      const registration = await store.loadRegistration();
      expect(registration?.distributorId).toBe("d1");
      expect([...(registration?.managerPublicKey ?? [])]).toEqual([4, 5]);
      expect(await store.getProgram("h")).toBeUndefined();
      await store.putProgram({ hash: "h", source: "export default () => 1", signature: new Uint8Array([6]) });
      await store.putProgram({ hash: "h", source: "other", signature: new Uint8Array([7]) });
      const program = await store.getProgram("h");
      expect(program?.source).toBe("export default () => 1");
      expect([...(program?.signature ?? [])]).toEqual([6]);
    });

    it("survives reopening: held copies (all ready again), assignments, results, secret", async () => {
      const { store, reopen } = await fresh();
      await store.addLeased([leasedCopy(1), leasedCopy(2), leasedCopy(3, "p1", 2)]);
      await store.takeReady({ clientId: "a", max: 1, nowMs: T0, clientDeadlineMs: T0 + 1000 });
      await store.storeResults([result("c9", "u9", "z")]);
      await store.ensureSecret(() => new Uint8Array([42]));
      await store.close();
      const again = await reopen();
      opened.push({ store: again, cleanup: async () => undefined });
      const heldBytes = bytesOf([leasedCopy(1), leasedCopy(2), leasedCopy(3, "p1", 2)]);
      expect(await again.counts()).toEqual({ held: 3, heldBytes, ready: 3, given: 0, results: 1 });
      expect([...(await again.wasGiven("a", ["c3"]))]).toEqual([["c3", "u3"]]);
      expect([...(await again.ensureSecret(() => new Uint8Array([0])))]).toEqual([42]);
      expect(ids(await again.pendingResults(10))).toEqual(["c9"]);
      const ready = await again.takeReady({ clientId: "b", max: 5, nowMs: T0, clientDeadlineMs: T0 + 1000 });
      expect(ids(ready)).toEqual(["c3", "c1", "c2"]);
      expect([...fromBinary(TaskSchema, ready[1]?.task as Uint8Array).input]).toEqual([...new TextEncoder().encode("1")]);
      expect(await again.requeueExpiredClientLeases(T0 + 1000)).toBe(3);
    });

    it("tells its listeners when copies become ready and results are stored", async () => {
      const { store } = await fresh();
      const heard: StoreChange[] = [];
      const stop = store.onChange((change) => heard.push(change));
      await store.addLeased([leasedCopy(1), leasedCopy(2), leasedCopy(3), leasedCopy(4)]);
      await store.addLeased([leasedCopy(1)]);
      await store.takeReady({ clientId: "a", max: 3, nowMs: T0, clientDeadlineMs: T0 + 1000 });
      await store.requeueClient("a", ["c1"]);
      await store.storeResults([result("c2", "u2", "a")]);
      await store.storeResults([result("c2", "u2", "a")]);
      await store.requeueExpiredClientLeases(T0 + 500);
      // c3 is in a's hands, c1 and c4 are ready: only c3 is announced.
      expect(await store.dropCopies({ unitIds: ["u3", "u4"], copyIds: ["c1"] })).toBe(3);
      expect(await store.dropCopies({ unitIds: ["u3"] })).toBe(0);
      stop();
      await store.addLeased([leasedCopy(5)]);
      expect(heard).toEqual([{ kind: "ready" }, { kind: "ready" }, { kind: "results" }, { kind: "dropped", copyIds: ["c3"] }]);
    });

    it("in a pool: gives each copy once, shares assignments and results, hears the others' changes", async () => {
      const made = await fresh();
      if (made.peer === undefined) {
        expect(await made.store.otherProcesses()).toBe(0);
        return;
      }
      const a = made.store;
      expect(await a.otherProcesses()).toBe(0);
      const b = await made.peer();
      opened.push({ store: b, cleanup: async () => undefined });
      expect(await a.otherProcesses()).toBe(1);
      const heardByB: string[] = [];
      b.onChange((change) => heardByB.push(change.kind === "dropped" ? `dropped ${change.copyIds.join(",")}` : change.kind));
      await a.addLeased([1, 2, 3, 4].map((n) => leasedCopy(n)));
      await eventually(() => heardByB.includes("ready"));
      const [fromA, fromB] = await Promise.all([
        a.takeReady({ clientId: "x", max: 2, nowMs: T0, clientDeadlineMs: T0 + 1000 }),
        b.takeReady({ clientId: "y", max: 3, nowMs: T0, clientDeadlineMs: T0 + 1000 }),
      ]);
      expect([...ids(fromA), ...ids(fromB)].sort()).toEqual(["c1", "c2", "c3", "c4"]);
      expect(await b.counts()).toMatchObject({ held: 4, ready: 0, given: 4 });
      // A client given copies by one process reports them to the other.
      const givenToX = await b.wasGiven("x", ids(fromA));
      expect([...givenToX.keys()].sort()).toEqual(ids(fromA).sort());
      await b.storeResults(fromA.map((c) => result(c.copyId, c.unitId, "x")));
      await eventually(() => heardByB.length > 0);
      // One result queue: a batch handed to one process's report loop is not handed to the other's.
      const claimedByA = await a.pendingResults(10);
      expect(ids(claimedByA).sort()).toEqual(ids(fromA).sort());
      expect(await b.pendingResults(10)).toEqual([]);
      expect(await b.ackResults(ids(claimedByA))).toBe(fromA.length);
      // A copy dropped by one process is announced to the others, who may hold its client.
      const [dropped] = fromB;
      await a.dropCopies({ copyIds: [dropped!.copyId] });
      await eventually(() => heardByB.includes(`dropped ${dropped!.copyId}`));
      fromB.shift();
      // Closing a process hands its clients' copies back to the pool.
      expect(await a.requeueClient("y", ids(fromB))).toBe(fromB.length);
      const again = await a.takeReady({ clientId: "x", max: 1, nowMs: T0, clientDeadlineMs: T0 + 1000 });
      expect(again).toHaveLength(1);
      // Its claimed results, if any were left unacknowledged, would be free for the others too.
      await b.storeResults([result("c9", "u9", "y")]);
      expect(ids(await a.pendingResults(10))).toEqual(["c9"]);
      await a.close();
      expect(await b.otherProcesses()).toBe(0);
      expect(await b.counts()).toMatchObject({ held: 3 - fromA.length, ready: 3 - fromA.length, given: 0, results: 1 });
      expect(ids(await b.pendingResults(10))).toEqual(["c9"]);
    });

    it("handles batches of thousands", async () => {
      const { store } = await fresh();
      const copies = Array.from({ length: 5000 }, (_, i) => leasedCopy(i));
      expect(await store.addLeased(copies)).toBe(5000);
      const given = await store.takeReady({ clientId: "a", max: 5000, nowMs: T0, clientDeadlineMs: T0 + 1000 });
      expect(given).toHaveLength(5000);
      expect(given[4999]?.copyId).toBe("c4999");
      const outcome = await store.storeResults(given.map((g) => result(g.copyId, g.unitId, "a")));
      expect(outcome).toEqual({ accepted: 5000, duplicates: 0 });
      expect(await store.ackResults(given.map((g) => g.copyId))).toBe(5000);
      expect(await store.counts()).toEqual({ held: 0, heldBytes: 0, ready: 0, given: 0, results: 0 });
    });
  });
}
