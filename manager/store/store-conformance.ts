import { fromBinary } from "@bufbuild/protobuf";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ResultSchema } from "../../gen/disio/v1/admin_service_pb.js";
import { InvalidArgumentError, NotFoundError } from "../../core/errors.js";
import { resolveProjectSettings, type ProjectSettingsInput } from "../../core/project-settings.js";
import { sha256Hex } from "../output-hash.js";
import type { StoreChangeKind } from "./store-changes.js";
import type { ManagerStore } from "./store.js";

/** A fresh, empty store per test, and its cleanup. */
export interface StoreFactory {
  /** `random`: the store's uniform draws (adaptive replication), for tests that must not depend on luck. */
  create(options?: { random?: () => number }): Promise<ManagerStore>;
  /** Closes the store and opens the same data again, as a restarted manager would. */
  reopen(store: ManagerStore): Promise<ManagerStore>;
  destroy(store: ManagerStore): Promise<void>;
}

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const T0 = 1_700_000_000_000;

/**
 * Registers the manager store conformance suite: every backend must pass it. `name` labels the
 * describe block, `factory` gives each test its own empty store.
 */
export function storeConformance(name: string, factory: StoreFactory): void {
  describe(`ManagerStore conformance: ${name}`, () => {
    let store: ManagerStore;
    let distributorId: string;
    beforeEach(async () => {
      store = await factory.create();
      distributorId = (await store.createDistributor({ name: "d1", region: "eu", tokenHash: "h1" }, T0)).id;
    });
    afterEach(async () => {
      await factory.destroy(store);
    });

    async function project(settings: Partial<ProjectSettingsInput> = {}, paused = false) {
      return store.createProject({
        settings: resolveProjectSettings({ name: `p${Math.random()}`, ...settings }),
        programHash: "abc",
        hasValidator: false,
        paused,
        nowMs: T0,
      });
    }

    it("keeps a stable group id and programs by hash", async () => {
      const group = await store.groupId();
      expect(group).toMatch(/^g-/);
      expect(await store.groupId()).toBe(group);
      await store.putProgram({ hash: "h", source: "export default x => x", signature: new Uint8Array([1, 2]) });
      expect(await store.getProgram("h")).toEqual({ hash: "h", source: "export default x => x", signature: new Uint8Array([1, 2]) });
      expect(await store.getProgram("nope")).toBeUndefined();
    });

    it("throws NotFound for unknown projects and units", async () => {
      await expect(store.getProject("p999")).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.getProject("garbage")).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.getUnit("u999")).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.addUnits("p999", [], T0)).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.getDistributor("d999")).rejects.toBeInstanceOf(NotFoundError);
    });

    it("creates, lists, updates and deletes projects with counts", async () => {
      const a = await project({ name: "a" });
      const b = await project({ name: "b", replication: 3, quorum: 2 });
      await expect(project({ name: "a" })).rejects.toThrow(/exists/);
      const page1 = await store.listProjects({ limit: 1 });
      expect(page1.projects.map((p) => p.id)).toEqual([b.id]);
      const page2 = await store.listProjects({ limit: 1, pageToken: page1.nextPageToken });
      expect(page2.projects.map((p) => p.id)).toEqual([a.id]);
      expect(page2.nextPageToken).toBe("");
      const ids = await store.addUnits(a.id, [{ input: json(1), priority: 0 }, { input: json(2), priority: 0 }], T0);
      expect(ids).toHaveLength(2);
      expect((await store.getProject(a.id)).counts).toEqual({ queued: 2, running: 0, done: 0, failed: 0, expired: 0, cancelled: 0, total: 2 });
      const paused = await store.updateProject(a.id, { state: "paused" }, T0 + 1);
      expect(paused.state).toBe("paused");
      expect(await store.deleteProject(a.id)).toBe(2);
      await expect(store.getProject(a.id)).rejects.toBeInstanceOf(NotFoundError);
    });

    it("adds a request id's units once: a repeat adds nothing and returns the same ids, also after a reopen", async () => {
      const p = await project({ name: "once" });
      const q = await project({ name: "other" });
      const batch = () => [1, 2, 3].map((i) => ({ input: json({ i }), priority: i - 2 }));
      const first = await store.addUnitsOnce(p.id, "batch-1", batch(), T0);
      expect(first.alreadyStored).toBe(false);
      expect(first.unitIds).toHaveLength(3);
      expect(new Set(first.unitIds).size).toBe(3);
      expect(await store.addUnitsOnce(p.id, "batch-1", batch(), T0 + 1)).toEqual({ unitIds: first.unitIds, alreadyStored: true });
      const second = await store.addUnitsOnce(p.id, "batch-2", [{ input: json({ i: 4 }), priority: 0 }], T0);
      expect(second.alreadyStored).toBe(false);
      expect(first.unitIds).not.toContain(second.unitIds[0]);
      expect(await store.addUnitsOnce(p.id, "empty", [], T0)).toEqual({ unitIds: [], alreadyStored: false });
      expect(await store.addUnitsOnce(p.id, "empty", [], T0)).toEqual({ unitIds: [], alreadyStored: true });
      const theirs = await store.addUnitsOnce(q.id, "batch-1", batch(), T0);
      expect(theirs.alreadyStored).toBe(false);
      expect(theirs.unitIds.filter((id) => first.unitIds.includes(id))).toEqual([]);

      store = await factory.reopen(store);
      expect(await store.addUnitsOnce(p.id, "batch-1", batch(), T0 + 2)).toEqual({ unitIds: first.unitIds, alreadyStored: true });
      expect(await store.addUnitsOnce(p.id, "batch-2", [{ input: json({ i: 4 }), priority: 0 }], T0 + 2)).toEqual({ ...second, alreadyStored: true });
      expect((await store.getProject(p.id)).counts).toMatchObject({ queued: 4, total: 4 });
      expect((await store.getProject(q.id)).counts).toMatchObject({ queued: 3, total: 3 });
      const { units } = await store.listUnits(p.id, { limit: 10 });
      expect(units.map((u) => [u.id, new TextDecoder().decode(u.input), u.priority])).toEqual([
        [first.unitIds[0], '{"i":1}', -1],
        [first.unitIds[1], '{"i":2}', 0],
        [first.unitIds[2], '{"i":3}', 1],
        [second.unitIds[0], '{"i":4}', 0],
      ]);
    });

    const reuses: Array<[string, Array<{ input: Uint8Array; priority: number }>]> = [
      ["one unit fewer", [{ input: json(1), priority: 0 }]],
      ["one unit more", [1, 2, 3].map((i) => ({ input: json(i), priority: 0 }))],
      ["another input", [{ input: json(1), priority: 0 }, { input: json(9), priority: 0 }]],
      ["another priority", [{ input: json(1), priority: 0 }, { input: json(2), priority: 5 }]],
    ];
    for (const [what, units] of reuses) {
      it(`refuses a request id reused with ${what}, and adds nothing`, async () => {
        const p = await project();
        const first = await store.addUnitsOnce(p.id, "r", [1, 2].map((i) => ({ input: json(i), priority: 0 })), T0);
        const reused = store.addUnitsOnce(p.id, "r", units, T0);
        await expect(reused).rejects.toBeInstanceOf(InvalidArgumentError);
        await expect(reused).rejects.toThrow(/request_id: "r" already stored a different batch/);
        expect((await store.getProject(p.id)).counts.total).toBe(2);
        expect((await store.listUnits(p.id, { limit: 10 })).units.map((u) => u.id)).toEqual(first.unitIds);
      });
    }

    it("throws NotFound for a request id in an unknown project", async () => {
      await expect(store.addUnitsOnce("p999", "r", [{ input: json(1), priority: 0 }], T0)).rejects.toBeInstanceOf(NotFoundError);
    });

    it("leases by project priority, project deadline, unit priority, then age", async () => {
      const none = await project({ name: "none" });
      const late = await project({ name: "late", deadlineMs: T0 + 90_000_000 });
      const soon = await project({ name: "soon", deadlineMs: T0 + 10_000_000 });
      const hi = await project({ name: "hi", priority: 5 });
      const [n1] = await store.addUnits(none.id, [{ input: json("n1"), priority: 0 }], T0);
      const [l1, l2] = await store.addUnits(late.id, [{ input: json("l1"), priority: 0 }, { input: json("l2"), priority: 9 }], T0);
      const [s1, s2] = await store.addUnits(soon.id, [{ input: json("s1"), priority: 0 }, { input: json("s2"), priority: 0 }], T0);
      const [h1] = await store.addUnits(hi.id, [{ input: json("h1"), priority: -3 }], T0);
      const tasks = await store.leaseCopies(distributorId, 100, T0);
      expect(tasks.map((t) => t.unitId)).toEqual([h1, s1, s2, l2, l1, n1]);
      expect(new TextDecoder().decode(tasks[0]!.input)).toBe('"h1"');
      expect(tasks[0]!.deadlineMs).toBe(T0 + 60_000);
      expect(new Set(tasks.map((t) => t.copyId)).size).toBe(6);
      expect(await store.leaseCopies(distributorId, 100, T0)).toEqual([]);
      const partial = await project({ name: "partial" });
      await store.addUnits(partial.id, [1, 2, 3].map((i) => ({ input: json(i), priority: 0 })), T0);
      expect(await store.leaseCopies(distributorId, 2, T0)).toHaveLength(2);
      expect((await store.getProject(partial.id)).counts).toMatchObject({ queued: 1, running: 2 });
      expect((await store.getProject(partial.id)).copiesOut).toBe(2);
    });

    it("stops a Lease before its inputs pass the byte budget, but always leases one copy", async () => {
      const a = await project({ name: "a", priority: 1 });
      const b = await project({ name: "b" });
      const big = (n: number) => new Uint8Array(n).fill(0x31);
      const aUnits = await store.addUnits(a.id, [100, 100, 100].map((n) => ({ input: big(n), priority: 0 })), T0);
      const bUnits = await store.addUnits(b.id, [{ input: big(50), priority: 0 }], T0);
      expect((await store.leaseCopies(distributorId, 10, T0, 250)).map((t) => t.unitId)).toEqual(aUnits.slice(0, 2));
      // The next unit in order (a's third, 100 bytes) does not fit 60: b's smaller one does not jump it.
      expect((await store.leaseCopies(distributorId, 10, T0, 60)).map((t) => t.unitId)).toEqual([aUnits[2]]);
      expect((await store.leaseCopies(distributorId, 10, T0, 10)).map((t) => t.unitId)).toEqual(bUnits);
      expect((await store.getProject(a.id)).counts).toMatchObject({ queued: 0, running: 3 });
    });

    it("does not lease paused projects or projects past their deadline", async () => {
      const p = await project({}, true);
      await store.addUnits(p.id, [{ input: json(1), priority: 0 }], T0);
      expect(await store.leaseCopies(distributorId, 10, T0)).toEqual([]);
      await store.updateProject(p.id, { state: "active" }, T0);
      const d = await project({ deadlineMs: T0 + 1000 });
      await store.addUnits(d.id, [{ input: json(1), priority: 0 }], T0);
      expect((await store.leaseCopies(distributorId, 10, T0 + 1000)).map((t) => t.projectId)).toEqual([p.id]);
    });

    it("finishes a unit on an OK result and logs the canonical output", async () => {
      const p = await project();
      const [u] = await store.addUnits(p.id, [{ input: json({ x: 1 }), priority: 0 }], T0);
      const [task] = await store.leaseCopies(distributorId, 10, T0);
      const out = await store.recordResults(distributorId, [{ copyId: task!.copyId, output: json({ b: 2, a: 1 }), clientId: "k1" }], T0 + 5);
      expect(out).toMatchObject({ accepted: 1, duplicates: 0, unknown: 0, unitsFinished: 1 });
      const unit = await store.getUnit(u!);
      expect(unit.state).toBe("done");
      expect(new TextDecoder().decode(unit.output)).toBe('{"a":1,"b":2}');
      expect(unit.outputHash).toBe(sha256Hex('{"a":1,"b":2}'));
      expect(unit.copies).toEqual([
        {
          id: task!.copyId,
          unitId: u,
          distributorId,
          clientId: "k1",
          sentAtMs: T0,
          deadlineMs: T0 + 60_000,
          receivedAtMs: T0 + 5,
          outcome: "ok",
          outputHash: unit.outputHash,
          error: undefined,
        },
      ]);
      expect(unit.copiesSent).toBe(1);
      const project1 = await store.getProject(p.id);
      expect(project1.state).toBe("done");
      expect(project1.counts).toMatchObject({ done: 1, total: 1 });
      expect(project1.copiesOut).toBe(0);
    });

    it("refuses results for copies leased to another distributor and records nothing of them", async () => {
      const p = await project();
      const [u] = await store.addUnits(p.id, [{ input: json(1), priority: 0 }], T0);
      const [task] = await store.leaseCopies(distributorId, 10, T0);
      const other = (await store.createDistributor({ name: "d-foreign", region: "", tokenHash: "h-foreign" }, T0)).id;
      const refused = await store.recordResults(other, [{ copyId: task!.copyId, output: json(666), clientId: "liar" }], T0 + 1);
      expect(refused).toMatchObject({ accepted: 0, duplicates: 0, unknown: 0, refused: 1, unitsFinished: 0 });
      const untouched = await store.getUnit(u!);
      expect(untouched.state).toBe("running");
      expect(untouched.copies[0]).toMatchObject({ outcome: "pending", clientId: undefined, receivedAtMs: undefined });
      const own = await store.recordResults(distributorId, [{ copyId: task!.copyId, output: json(1) }], T0 + 2);
      expect(own).toMatchObject({ accepted: 1, refused: 0, unitsFinished: 1 });
      expect(new TextDecoder().decode((await store.getUnit(u!)).output)).toBe("1");
    });

    it("stores a copy reported twice once (idempotent reports) and counts unknown copies", async () => {
      const p = await project();
      await store.addUnits(p.id, [{ input: json(1), priority: 0 }, { input: json(2), priority: 0 }], T0);
      const tasks = await store.leaseCopies(distributorId, 10, T0);
      const first = await store.recordResults(distributorId, [{ copyId: tasks[0]!.copyId, output: json(1) }], T0);
      expect(first).toMatchObject({ accepted: 1, duplicates: 0 });
      const again = await store.recordResults(
        distributorId,
        [
          { copyId: tasks[0]!.copyId, output: json(1) },
          { copyId: tasks[1]!.copyId, output: json(2) },
          { copyId: tasks[1]!.copyId, output: json(2) },
          { copyId: "c99999", output: json(3) },
          { copyId: "bogus", output: json(3) },
        ],
        T0,
      );
      expect(again).toMatchObject({ accepted: 1, duplicates: 2, unknown: 2 });
      expect((await store.listResults(p.id, "", 100)).results).toHaveLength(2);
      expect((await store.getProject(p.id)).counts.done).toBe(2);
    });

    it("times out expired copies, requeues them counting the attempt, and fails at max_attempts", async () => {
      const p = await project({ leaseTimeoutMs: 1000, maxAttempts: 2 });
      const [u] = await store.addUnits(p.id, [{ input: json(1), priority: 0 }], T0);
      await store.leaseCopies(distributorId, 10, T0);
      expect(await store.requeueExpired(T0 + 999, 100)).toMatchObject({ timedOut: 0 });
      expect(await store.requeueExpired(T0 + 1000, 100)).toMatchObject({ timedOut: 1, unitsReopened: true, unitsFinished: 0 });
      let unit = await store.getUnit(u!);
      expect(unit).toMatchObject({ state: "queued", attempts: 1, copiesSent: 1 });
      expect(unit.copies[0]!.outcome).toBe("timeout");
      const [again] = await store.leaseCopies(distributorId, 10, T0 + 2000);
      expect(again!.unitId).toBe(u);
      expect(await store.requeueExpired(T0 + 3000, 100)).toMatchObject({ timedOut: 1, unitsFinished: 1 });
      unit = await store.getUnit(u!);
      expect(unit).toMatchObject({ state: "failed", attempts: 2, copiesSent: 2 });
      expect(unit.error).toMatch(/timeout/);
      expect(await store.leaseCopies(distributorId, 10, T0 + 4000)).toEqual([]);
      expect((await store.getProject(p.id)).counts).toMatchObject({ failed: 1, queued: 0, running: 0 });
    });

    it("fails a unit whose copies keep erroring, and records the last error", async () => {
      const p = await project({ maxAttempts: 2 });
      const [u] = await store.addUnits(p.id, [{ input: json(1), priority: 0 }], T0);
      for (let i = 0; i < 2; i++) {
        const [t] = await store.leaseCopies(distributorId, 10, T0);
        await store.recordResults(distributorId, [{ copyId: t!.copyId, error: { kind: "throw", message: `boom ${i}` } }], T0);
      }
      const unit = await store.getUnit(u!);
      expect(unit.state).toBe("failed");
      expect(unit.error).toBe("throw: boom 1");
      expect(unit.copies.map((c) => c.outcome)).toEqual(["error", "error"]);
    });

    it("counts a unit's failed attempts per distinct client: one client's repeated errors do not fail it", async () => {
      const p = await project({ maxAttempts: 2 });
      const [u] = await store.addUnits(p.id, [{ input: json(1), priority: 0 }], T0);
      const fail = async (clientId: string, message: string) => {
        const [t] = await store.leaseCopies(distributorId, 10, T0);
        expect(t?.unitId).toBe(u);
        return store.recordResults(distributorId, [{ copyId: t!.copyId, error: { kind: "throw", message }, clientId }], T0 + 1);
      };
      await fail("A", "a1");
      expect(await store.getUnit(u!)).toMatchObject({ state: "queued", attempts: 1 });
      expect(await fail("A", "a2")).toMatchObject({ accepted: 1, unitsFinished: 0, unitsReopened: true });
      expect(await store.getUnit(u!)).toMatchObject({ state: "queued", attempts: 1, copiesSent: 2, error: "throw: a2" });
      expect(await fail("B", "b1")).toMatchObject({ accepted: 1, unitsFinished: 1 });
      const unit = await store.getUnit(u!);
      expect(unit).toMatchObject({ state: "failed", attempts: 2, copiesSent: 3, error: "throw: b1" });
      expect(unit.copies.map((c) => [c.clientId, c.outcome, c.error])).toEqual([
        ["A", "error", "throw: a1"],
        ["A", "error", "throw: a2"],
        ["B", "error", "throw: b1"],
      ]);
      expect((await store.getProject(p.id)).counts).toMatchObject({ failed: 1, queued: 0, running: 0 });
    });

    it("counts as one attempt a client's failures of the same unit reported in one batch, invalid outputs included", async () => {
      const p = await project({ replication: 2, quorum: 2, maxAttempts: 3 });
      const [u] = await store.addUnits(p.id, [{ input: json(1), priority: 0 }], T0);
      const copies = [...(await store.leaseCopies(distributorId, 1, T0)), ...(await store.leaseCopies(distributorId, 1, T0))];
      expect(copies.map((c) => c.unitId)).toEqual([u, u]);
      const out = await store.recordResults(
        distributorId,
        [
          { copyId: copies[0]!.copyId, error: { kind: "throw", message: "x" }, clientId: "A" },
          { copyId: copies[1]!.copyId, output: new TextEncoder().encode("{nope"), clientId: "A" },
        ],
        T0 + 1,
      );
      expect(out).toMatchObject({ accepted: 2, unitsFinished: 0, unitsReopened: true });
      expect(await store.getUnit(u!)).toMatchObject({ state: "queued", attempts: 1, error: "output is not valid JSON" });
      const again = [...(await store.leaseCopies(distributorId, 10, T0)), ...(await store.leaseCopies(distributorId, 10, T0))];
      expect(again.map((t) => t.unitId)).toEqual([u, u]);
    });

    it("fails a unit one client keeps failing once its round has sent max_attempts × 3 copies", async () => {
      const p = await project({ maxAttempts: 2 });
      const [u] = await store.addUnits(p.id, [{ input: json(1), priority: 0 }], T0);
      for (let i = 1; i <= 6; i++) {
        const [t] = await store.leaseCopies(distributorId, 10, T0);
        expect(t?.unitId).toBe(u);
        const out = await store.recordResults(distributorId, [{ copyId: t!.copyId, error: { kind: "throw", message: `boom ${i}` }, clientId: "A" }], T0);
        expect(out.unitsFinished).toBe(i === 6 ? 1 : 0);
      }
      const unit = await store.getUnit(u!);
      expect(unit).toMatchObject({ state: "failed", attempts: 1, copiesSent: 6, error: "throw: boom 6" });
      expect(unit.copies).toHaveLength(6);
      expect(await store.leaseCopies(distributorId, 10, T0)).toEqual([]);
      // A new round starts with a fresh budget: the client's earlier failures no longer count.
      expect(await store.requeueUnits(p.id, { unitIds: [u!] }, T0)).toBe(1);
      const [t] = await store.leaseCopies(distributorId, 10, T0);
      await store.recordResults(distributorId, [{ copyId: t!.copyId, error: { kind: "throw", message: "again" }, clientId: "A" }], T0);
      expect(await store.getUnit(u!)).toMatchObject({ state: "queued", attempts: 1 });
    });

    it("reaches a quorum when two of three copies agree, marking the third invalid", async () => {
      const p = await project({ replication: 3, quorum: 2 });
      const [u] = await store.addUnits(p.id, [{ input: json(1), priority: 0 }], T0);
      const copies = [...(await store.leaseCopies(distributorId, 10, T0)), ...(await store.leaseCopies(distributorId, 10, T0)), ...(await store.leaseCopies(distributorId, 10, T0))];
      expect(copies.map((c) => c.unitId)).toEqual([u, u, u]);
      expect(await store.leaseCopies(distributorId, 10, T0)).toEqual([]);
      await store.recordResults(distributorId, [{ copyId: copies[0]!.copyId, output: json(7) }, { copyId: copies[1]!.copyId, output: json(8) }], T0);
      expect((await store.getUnit(u!)).state).toBe("running");
      await store.recordResults(distributorId, [{ copyId: copies[2]!.copyId, output: json(7) }], T0);
      const unit = await store.getUnit(u!);
      expect(unit.state).toBe("done");
      expect(new TextDecoder().decode(unit.output)).toBe("7");
      expect(unit.copies.map((c) => c.outcome)).toEqual(["ok", "invalid", "ok"]);
    });

    it("records a late result for a done unit on its copy only (disagreeing: invalid); the unit and its result stay", async () => {
      const p = await project({ leaseTimeoutMs: 1_000 });
      const [u] = await store.addUnits(p.id, [{ input: json(1), priority: 0 }], T0);
      const [slow] = await store.leaseCopies(distributorId, 10, T0);
      expect((await store.requeueExpired(T0 + 1_000, 100)).timedOut).toBe(1);
      const [fast] = await store.leaseCopies(distributorId, 10, T0 + 1_000);
      await store.recordResults(distributorId, [{ copyId: fast!.copyId, output: json("right") }], T0 + 1_001);
      const late = await store.recordResults(distributorId, [{ copyId: slow!.copyId, output: json("wrong") }], T0 + 1_002);
      expect(late).toMatchObject({ accepted: 1, duplicates: 0, unitsFinished: 0, unitsReopened: false });
      const unit = await store.getUnit(u!);
      expect(unit).toMatchObject({ state: "done", attempts: 2, copiesSent: 2 });
      expect(new TextDecoder().decode(unit.output)).toBe('"right"');
      expect(unit.copies.map((c) => [c.id, c.outcome, c.receivedAtMs])).toEqual([
        [slow!.copyId, "invalid", T0 + 1_002],
        [fast!.copyId, "ok", T0 + 1_001],
      ]);
      expect((await store.listResults(p.id, "", 10)).results.map((r) => r.unitId)).toEqual([u]);
    });

    it("sends more copies on disagreement", async () => {
      const p = await project({ replication: 2, quorum: 2, maxAttempts: 4 });
      const [u] = await store.addUnits(p.id, [{ input: json(1), priority: 0 }], T0);
      const a = [...(await store.leaseCopies(distributorId, 10, T0)), ...(await store.leaseCopies(distributorId, 10, T0))];
      await store.recordResults(distributorId, [{ copyId: a[0]!.copyId, output: json(1) }, { copyId: a[1]!.copyId, output: json(2) }], T0);
      expect(await store.getUnit(u!)).toMatchObject({ state: "queued", attempts: 2 });
      const [third] = await store.leaseCopies(distributorId, 10, T0);
      expect(third!.unitId).toBe(u);
      const [fourth] = await store.leaseCopies(distributorId, 10, T0);
      expect(fourth).toBeUndefined();
      const out = await store.recordResults(distributorId, [{ copyId: third!.copyId, output: json(2) }], T0);
      expect(out.unitsFinished).toBe(1);
      const unit = await store.getUnit(u!);
      expect(unit).toMatchObject({ state: "done", attempts: 3, copiesSent: 3 });
      expect(unit.copies.map((c) => c.outcome)).toEqual(["invalid", "ok", "ok"]);
    });

    describe("distinct volunteers and trust", () => {
      /** A unit of a replication-2 / quorum-2 project with its two copies leased. */
      async function twoCopies(maxAttempts = 4) {
        const p = await project({ replication: 2, quorum: 2, maxAttempts });
        const [u] = await store.addUnits(p.id, [{ input: json(1), priority: 0 }], T0);
        const copies = [...(await store.leaseCopies(distributorId, 10, T0)), ...(await store.leaseCopies(distributorId, 10, T0))];
        return { p, u: u!, copies };
      }
      const by = (clientKey: string, clientHost?: string) => ({ clientId: `s-${clientKey}-${clientHost ?? ""}`, clientKey, ...(clientHost !== undefined && { clientHost }) });

      it("finishes verified when two distinct clients agree, showing who agreed, and counts their trust", async () => {
        const { u, copies } = await twoCopies();
        await store.recordResults(distributorId, [
          { copyId: copies[0]!.copyId, output: json(5), ...by("k-a", "198.51.100.1") },
          { copyId: copies[1]!.copyId, output: json(5), ...by("k-b") },
        ], T0);
        const unit = await store.getUnit(u);
        expect(unit).toMatchObject({ state: "done", selfAgreement: false });
        expect(unit.copies.map((c) => [c.clientKey, c.clientHost, c.outcome])).toEqual([["k-a", "198.51.100.1", "ok"], ["k-b", undefined, "ok"]]);
        expect((await store.listClients(10)).map((c) => [c.clientKey, c.distributorId, c.trust, c.validated, c.wrong, c.lastSeenMs])).toEqual([
          ["k-a", distributorId, 1, 1, 0, T0],
          ["k-b", distributorId, 1, 1, 0, T0],
        ]);
      });

      it("marks agreement of one client with itself (two sessions, one key) as self-agreement, judging no one", async () => {
        const { p, u, copies } = await twoCopies();
        await store.recordResults(distributorId, [
          { copyId: copies[0]!.copyId, output: json(5), clientId: "s1", clientKey: "k-a" },
          { copyId: copies[1]!.copyId, output: json(5), clientId: "s2", clientKey: "k-a" },
        ], T0);
        expect(await store.getUnit(u)).toMatchObject({ state: "done", selfAgreement: true });
        expect((await store.listResults(p.id, "", 10)).results.map((r) => [r.unitId, r.selfAgreement])).toEqual([[u, true]]);
        expect(await store.listClients(10)).toEqual([]);
      });

      it("under adaptive replication, sends one copy first, accepts a trusted client's result alone, and sends it back to quorum once that client is caught wrong", async () => {
        const adaptive = await factory.create({ random: () => 0.999 });
        try {
          const d = (await adaptive.createDistributor({ name: "edge", region: "", tokenHash: "h-adaptive" }, T0)).id;
          const p = await adaptive.createProject({
            settings: resolveProjectSettings({ name: "adaptive", replication: 2, quorum: 2, maxAttempts: 4, adaptiveReplication: true }),
            programHash: "abc",
            hasValidator: false,
            paused: false,
            nowMs: T0,
          });
          const compute = async (unitId: string, ...answers: Array<[clientKey: string, output: unknown]>) => {
            for (const [clientKey, output] of answers) {
              const [copy, extra] = await adaptive.leaseCopies(d, 10, T0);
              expect(copy?.unitId).toBe(unitId);
              expect(extra).toBeUndefined();
              await adaptive.recordResults(d, [{ copyId: copy!.copyId, output: json(output), clientId: `s-${clientKey}`, clientKey }], T0);
            }
            return adaptive.getUnit(unitId);
          };
          // Trust 11 each (10/11 of results replicated, the draw 0.999 past it).
          for (let n = 0; n < 11; n++) {
            const [u] = await adaptive.addUnits(p.id, [{ input: json(n), priority: 0 }], T0);
            expect(await compute(u!, ["k-a", n], ["k-b", n])).toMatchObject({ state: "done", unreplicated: false, copiesSent: 2 });
          }
          const [alone] = await adaptive.addUnits(p.id, [{ input: json("alone") }].map((u) => ({ input: u.input, priority: 0 })), T0);
          expect(await compute(alone!, ["k-a", "alone"])).toMatchObject({ state: "done", unreplicated: true, copiesSent: 1 });
          const log = async () => (await adaptive.listResults(p.id, "", 100)).results.filter((r) => r.unitId === alone).map((r) => r.unreplicated);
          expect(await log()).toEqual([true]);
          expect((await adaptive.listClients(10)).find((c) => c.clientKey === "k-a")?.trust).toBe(11);

          // k-a caught wrong (k-c has no trust, so its first result is replicated).
          const [caught] = await adaptive.addUnits(p.id, [{ input: json("caught"), priority: 0 }], T0);
          expect(await compute(caught!, ["k-c", 7], ["k-a", "wrong"], ["k-b", 7])).toMatchObject({ state: "done", selfAgreement: false });
          expect((await adaptive.listClients(10)).find((c) => c.clientKey === "k-a")).toMatchObject({ trust: 0, wrong: 1 });
          expect(await adaptive.getUnit(alone!)).toMatchObject({ state: "queued", unreplicated: false, output: undefined });
          expect(await log()).toEqual([]);
          const rechecked = await compute(alone!, ["k-b", "alone"]);
          expect(rechecked).toMatchObject({ state: "done", unreplicated: false, selfAgreement: false, copiesSent: 2 });
          expect(await log()).toEqual([false]);
        } finally {
          await factory.destroy(adaptive);
        }
      });

      it("mixes canaries into leases, raises the trust of a client that answers one right, and sends its lone results back to quorum when it fails one", async () => {
        // Draws 0.999: every leased copy brings a canary at rate 1, placed last; a trust of 11 stands alone.
        const canaries = await factory.create({ random: () => 0.999 });
        try {
          const d = (await canaries.createDistributor({ name: "edge", region: "", tokenHash: "h-canary" }, T0)).id;
          const p = await canaries.createProject({
            settings: resolveProjectSettings({ name: "canaries", replication: 2, quorum: 2, maxAttempts: 4, adaptiveReplication: true, canaryRate: 1 }),
            programHash: "abc",
            hasValidator: false,
            paused: false,
            nowMs: T0,
          });
          const [canary] = await canaries.addUnits(p.id, [{ input: json("c"), priority: 0, expectedHash: sha256Hex("42") }], T0);
          expect((await canaries.getProject(p.id)).counts.total).toBe(0);
          expect(await canaries.leaseCopies(d, 10, T0)).toEqual([]);
          await expect(canaries.getUnit(canary!)).rejects.toBeInstanceOf(NotFoundError);
          const client = async () => (await canaries.listClients(10)).find((c) => c.clientKey === "k-a");
          let units = 0;
          const lease = async () => {
            const [u] = await canaries.addUnits(p.id, [{ input: json(units++), priority: 0 }], T0);
            const tasks = await canaries.leaseCopies(d, 2, T0);
            expect(tasks.map((t) => t.unitId)).toEqual([u, canary]);
            expect(tasks[1]).toMatchObject({ projectId: p.id, programHash: "abc", inputEncoding: "json" });
            return { u: u!, copy: tasks[0]!.copyId, canaryCopy: tasks[1]!.copyId };
          };
          // Ten right canary answers: trust 10 (their units' copies stay out).
          for (let n = 0; n < 10; n++) {
            const { canaryCopy } = await lease();
            await canaries.recordResults(d, [{ copyId: canaryCopy, output: json(42), clientId: "s-a", clientKey: "k-a" }], T0);
          }
          expect(await client()).toMatchObject({ trust: 10, validated: 10, wrong: 0 });
          // An eleventh: trust 11, and k-a's result for the unit leased beside it stands alone.
          const alone = await lease();
          await canaries.recordResults(d, [
            { copyId: alone.canaryCopy, output: json(42), clientId: "s-a", clientKey: "k-a" },
            { copyId: alone.copy, output: json("alone"), clientId: "s-a", clientKey: "k-a" },
          ], T0);
          expect(await canaries.getUnit(alone.u)).toMatchObject({ state: "done", unreplicated: true, copiesSent: 1 });
          expect((await canaries.listResults(p.id, "", 100)).results.map((r) => r.unitId)).toEqual([alone.u]);
          // A wrong canary answer: trust 0, and the lone result goes back to full quorum.
          const caught = await lease();
          const outcome = await canaries.recordResults(d, [{ copyId: caught.canaryCopy, output: json(41), clientId: "s-a", clientKey: "k-a" }], T0);
          expect(outcome).toMatchObject({ accepted: 1, unitsReopened: true, unitsFinished: 0 });
          expect(await client()).toMatchObject({ trust: 0, validated: 11, wrong: 1 });
          expect(await canaries.getUnit(alone.u)).toMatchObject({ state: "queued", unreplicated: false, output: undefined });
          expect((await canaries.listResults(p.id, "", 100)).results).toEqual([]);
          expect((await canaries.getProject(p.id)).counts).toMatchObject({ total: 12, done: 0 });
        } finally {
          await factory.destroy(canaries);
        }
      });

      it("leaves a canary as it was when its copy times out or its result comes in: it goes out again with the next lease", async () => {
        const canaries = await factory.create({ random: () => 0.999 });
        try {
          const d = (await canaries.createDistributor({ name: "edge", region: "", tokenHash: "h-canary-expiry" }, T0)).id;
          const p = await canaries.createProject({
            settings: resolveProjectSettings({ name: "canary-expiry", leaseTimeoutMs: 1000, canaryRate: 1 }),
            programHash: "abc",
            hasValidator: false,
            paused: false,
            nowMs: T0,
          });
          const [u, canary] = await canaries.addUnits(p.id, [{ input: json(1), priority: 0 }, { input: json(2), priority: 0, expectedHash: sha256Hex("4") }], T0);
          expect((await canaries.listUnits(p.id, { limit: 10 })).units.map((unit) => unit.id)).toEqual([u]);
          // Named by id, a canary is not a unit that can be cancelled or requeued.
          expect(await canaries.cancelUnits(p.id, [canary!], T0)).toBe(0);
          expect(await canaries.requeueUnits(p.id, { unitIds: [canary!] }, T0)).toBe(0);
          const first = await canaries.leaseCopies(d, 2, T0);
          expect(first.map((t) => t.unitId)).toEqual([u, canary]);
          expect(await canaries.requeueExpired(T0 + 1000, 100)).toMatchObject({ timedOut: 2, unitsReopened: true, unitsFinished: 0 });
          expect((await canaries.getProject(p.id)).counts).toMatchObject({ total: 1, queued: 1, running: 0 });
          const second = await canaries.leaseCopies(d, 2, T0 + 2000);
          expect(second.map((t) => t.unitId)).toEqual([u, canary]);
          const renewed = await canaries.renewCopies(d, [second[1]!.copyId], T0 + 2500);
          expect(renewed.lost).toEqual([]);
          await canaries.recordResults(d, [{ copyId: second[1]!.copyId, output: json(4), clientId: "s-a", clientKey: "k-a" }], T0 + 2600);
          await canaries.recordResults(d, [{ copyId: second[0]!.copyId, output: json(1), clientId: "s-a", clientKey: "k-a" }], T0 + 2600);
          expect((await canaries.getProject(p.id)).counts).toMatchObject({ total: 1, done: 1 });
          expect((await canaries.listResults(p.id, "", 10)).results.map((r) => r.unitId)).toEqual([u]);
          const [more] = await canaries.addUnits(p.id, [{ input: json(3), priority: 0 }], T0 + 3000);
          expect((await canaries.leaseCopies(d, 2, T0 + 3000)).map((t) => t.unitId)).toEqual([more, canary]);
        } finally {
          await factory.destroy(canaries);
        }
      });

      it("counts two keys on one host as one volunteer, and keyless clients of a distributor as one", async () => {
        for (const [a, b] of [[by("k-a", "198.51.100.1"), by("k-b", "198.51.100.1")], [by(""), by("")]] as const) {
          const { u, copies } = await twoCopies();
          await store.recordResults(distributorId, [{ copyId: copies[0]!.copyId, output: json(5), ...a }, { copyId: copies[1]!.copyId, output: json(5), ...b }], T0);
          expect(await store.getUnit(u)).toMatchObject({ state: "done", selfAgreement: true });
        }
      });

      it("never lets a liar's two sessions outvote an honest client: it asks for more copies, and the liar's trust falls to zero", async () => {
        const { u, copies } = await twoCopies(5);
        // The liar earned some trust first.
        const warm = await twoCopies();
        await store.recordResults(distributorId, [
          { copyId: warm.copies[0]!.copyId, output: json(1), ...by("k-liar") },
          { copyId: warm.copies[1]!.copyId, output: json(1), ...by("k-honest") },
        ], T0);
        await store.recordResults(distributorId, [
          { copyId: copies[0]!.copyId, output: json("wrong"), ...by("k-liar") },
          { copyId: copies[1]!.copyId, output: json(5), ...by("k-honest") },
        ], T0 + 1);
        expect(await store.getUnit(u)).toMatchObject({ state: "queued" });
        const [third] = await store.leaseCopies(distributorId, 10, T0);
        await store.recordResults(distributorId, [{ copyId: third!.copyId, output: json("wrong"), clientId: "s-liar-2", clientKey: "k-liar" }], T0 + 2);
        expect(await store.getUnit(u)).toMatchObject({ state: "queued" });
        const [fourth] = await store.leaseCopies(distributorId, 10, T0);
        await store.recordResults(distributorId, [{ copyId: fourth!.copyId, output: json(5), ...by("k-other") }], T0 + 3);
        const unit = await store.getUnit(u);
        expect(unit).toMatchObject({ state: "done", selfAgreement: false });
        expect(new TextDecoder().decode(unit.output)).toBe("5");
        expect(unit.copies.map((c) => [c.clientKey, c.outcome])).toEqual([["k-liar", "invalid"], ["k-honest", "ok"], ["k-liar", "invalid"], ["k-other", "ok"]]);
        const trust = new Map((await store.listClients(10)).map((c) => [c.clientKey, [c.trust, c.validated, c.wrong]]));
        expect(Object.fromEntries(trust)).toEqual({ "k-honest": [2, 2, 0], "k-other": [1, 1, 0], "k-liar": [0, 1, 2] });
        expect((await store.listClients(10))[0]!.clientKey).toBe("k-honest");
      });
    });

    it("fails when disagreement uses up max_attempts", async () => {
      const p = await project({ replication: 2, quorum: 2, maxAttempts: 3 });
      const [u] = await store.addUnits(p.id, [{ input: json(1), priority: 0 }], T0);
      for (let i = 0; i < 3; i++) {
        const [t] = await store.leaseCopies(distributorId, 10, T0);
        await store.recordResults(distributorId, [{ copyId: t!.copyId, output: json(i) }], T0);
      }
      expect(await store.getUnit(u!)).toMatchObject({ state: "failed", attempts: 3 });
    });

    it("treats output that is not JSON as invalid for JSON projects", async () => {
      const p = await project();
      const [u] = await store.addUnits(p.id, [{ input: json(1), priority: 0 }], T0);
      const [t] = await store.leaseCopies(distributorId, 10, T0);
      await store.recordResults(distributorId, [{ copyId: t!.copyId, output: new TextEncoder().encode("{nope") }], T0);
      const unit = await store.getUnit(u!);
      expect(unit.copies[0]!.outcome).toBe("invalid");
      expect(unit).toMatchObject({ state: "queued", attempts: 1 });
    });

    it("renews and releases only pending copies the distributor holds", async () => {
      const other = (await store.createDistributor({ name: "d2", region: "", tokenHash: "h2" }, T0)).id;
      const p = await project({ leaseTimeoutMs: 10_000 });
      const [u] = await store.addUnits(p.id, [{ input: json(1), priority: 0 }], T0);
      const [t] = await store.leaseCopies(distributorId, 10, T0);
      expect(await store.renewCopies(other, [t!.copyId], T0 + 5)).toEqual({ renewed: [], lost: [t!.copyId] });
      expect(await store.renewCopies(distributorId, [t!.copyId, "c424242"], T0 + 5)).toEqual({
        renewed: [{ copyId: t!.copyId, deadlineMs: T0 + 10_005 }],
        lost: ["c424242"],
      });
      expect(await store.releaseCopies(distributorId, [t!.copyId], T0 + 6)).toBe(1);
      expect(await store.releaseCopies(distributorId, [t!.copyId], T0 + 6)).toBe(0);
      const unit = await store.getUnit(u!);
      expect(unit).toMatchObject({ state: "queued", attempts: 0, copiesSent: 1 });
      expect(unit.copies[0]!.outcome).toBe("released");
      expect((await store.leaseCopies(distributorId, 10, T0 + 7)).map((x) => x.unitId)).toEqual([u]);
    });

    it("releases the pending copies a distributor no longer holds, and only those", async () => {
      const other = (await store.createDistributor({ name: "d3", region: "", tokenHash: "h3" }, T0)).id;
      const p = await project();
      await store.addUnits(p.id, [1, 2, 3, 4, 5].map((i) => ({ input: json(i), priority: 0 })), T0);
      const mine = await store.leaseCopies(distributorId, 4, T0);
      const theirs = await store.leaseCopies(other, 1, T0);
      await store.recordResults(distributorId, [{ copyId: mine[0]!.copyId, output: json(1) }], T0);
      // mine[0] is reported, mine[1] is held; mine[2] and mine[3] were lost; the other distributor's copy stays.
      expect(await store.releaseUnheldCopies(distributorId, [mine[1]!.copyId, "c999999", "junk"], T0 + 1)).toBe(2);
      for (const lost of [mine[2]!, mine[3]!]) {
        const unit = await store.getUnit(lost.unitId);
        expect(unit).toMatchObject({ state: "queued", attempts: 0 });
        expect(unit.copies[0]!.outcome).toBe("released");
      }
      expect((await store.getUnit(mine[1]!.unitId)).copies[0]!.outcome).toBe("pending");
      expect((await store.getUnit(theirs[0]!.unitId)).copies[0]!.outcome).toBe("pending");
      expect((await store.getUnit(mine[0]!.unitId)).state).toBe("done");
      expect(await store.releaseUnheldCopies(distributorId, [mine[1]!.copyId], T0 + 2)).toBe(0);
      expect((await store.leaseCopies(distributorId, 10, T0 + 3)).map((t) => t.unitId).sort()).toEqual([mine[2]!.unitId, mine[3]!.unitId].sort());
    });

    it("expires projects past their deadline with their open units", async () => {
      const p = await project({ deadlineMs: T0 + 5000 });
      const [u1, u2] = await store.addUnits(p.id, [{ input: json(1), priority: 0 }, { input: json(2), priority: 0 }], T0);
      const [t] = await store.leaseCopies(distributorId, 1, T0);
      await store.recordResults(distributorId, [{ copyId: t!.copyId, output: json(1) }], T0);
      expect(await store.expireProjects(T0 + 4999)).toEqual([]);
      expect(await store.expireProjects(T0 + 5000)).toEqual([p.id]);
      const after = await store.getProject(p.id);
      expect(after.state).toBe("expired");
      expect(after.counts).toMatchObject({ done: 1, expired: 1, queued: 0 });
      expect((await store.getUnit(u1!)).state).toBe("done");
      expect((await store.getUnit(u2!)).state).toBe("expired");
      expect(await store.expireProjects(T0 + 6000)).toEqual([]);
    });

    it("cancels and requeues units, and pages through them by state", async () => {
      const p = await project();
      const ids = await store.addUnits(p.id, [1, 2, 3, 4].map((i) => ({ input: json(i), priority: 0 })), T0);
      expect(await store.cancelUnits(p.id, [ids[0]!], T0)).toBe(1);
      expect(await store.cancelUnits(p.id, [ids[0]!], T0)).toBe(0);
      await expect(store.cancelUnits(p.id, ["u999999"], T0)).rejects.toBeInstanceOf(NotFoundError);
      const page = await store.listUnits(p.id, { state: "queued", limit: 2 });
      expect(page.units.map((u) => u.id)).toEqual([ids[1], ids[2]]);
      const rest = await store.listUnits(p.id, { state: "queued", limit: 2, pageToken: page.nextPageToken });
      expect(rest.units.map((u) => u.id)).toEqual([ids[3]]);
      expect(rest.nextPageToken).toBe("");
      // Inputs of 1 byte each: a 2-byte budget cuts the page after two units, a 0-byte one after one.
      const byBytes = await store.listUnits(p.id, { limit: 10, maxBytes: 2 });
      expect(byBytes.units.map((u) => u.id)).toEqual([ids[0], ids[1]]);
      const one = await store.listUnits(p.id, { limit: 10, maxBytes: 0, pageToken: byBytes.nextPageToken });
      expect(one.units.map((u) => u.id)).toEqual([ids[2]]);
      expect((await store.listUnits(p.id, { limit: 10, maxBytes: 2, pageToken: one.nextPageToken })).units.map((u) => u.id)).toEqual([ids[3]]);
      expect(await store.requeueUnits(p.id, { state: "cancelled" }, T0)).toBe(1);
      expect(await store.cancelUnits(p.id, undefined, T0)).toBe(4);
      expect((await store.getProject(p.id)).counts).toMatchObject({ cancelled: 4, queued: 0 });
    });

    it("cuts a results page at maxBytes of stored result fields (one always fits) and says more may follow", async () => {
      const p = await project();
      await store.addUnits(p.id, [1, 2, 3].map((i) => ({ input: json("x".repeat(100 * i)), priority: 0 })), T0);
      const tasks = await store.leaseCopies(distributorId, 10, T0);
      await store.recordResults(distributorId, tasks.map((t) => ({ copyId: t.copyId, output: json(1) })), T0);
      // Inputs of 102, 202 and 302 bytes (JSON strings), outputs of 1 byte: with the hash, finish
      // time and copies, stored fields of 183, 284 and 384 bytes.
      expect((await store.listResults(p.id, "", 10)).results.map((r) => r.fields.byteLength)).toEqual([183, 284, 384]);
      const first = await store.listResults(p.id, "", 10, 500);
      expect(first.results.map((r) => r.unitId)).toEqual(tasks.slice(0, 2).map((t) => t.unitId));
      expect(first.more).toBe(true);
      const second = await store.listResults(p.id, first.nextCursor, 10, 1);
      expect(second.results.map((r) => r.unitId)).toEqual([tasks[2]!.unitId]);
      expect(second.more).toBe(false);
      expect((await store.listResults(p.id, "", 2)).more).toBe(true);
      expect((await store.listResults(p.id, "", 3)).more).toBe(true);
      expect((await store.listResults(p.id, "", 4)).more).toBe(false);
    });

    it("pages results by cursor without gaps or repeats", async () => {
      const p = await project();
      await store.addUnits(p.id, Array.from({ length: 25 }, (_, i) => ({ input: json(i), priority: 0 })), T0);
      const tasks = await store.leaseCopies(distributorId, 100, T0);
      await store.recordResults(distributorId, tasks.slice(0, 10).map((t) => ({ copyId: t.copyId, output: json(t.unitId) })), T0);
      const seen: string[] = [];
      let cursor = "";
      for (;;) {
        const page = await store.listResults(p.id, cursor, 4);
        if (page.results.length === 0) {
          expect(page.nextCursor).toBe(cursor);
          break;
        }
        seen.push(...page.results.map((r) => r.unitId));
        cursor = page.nextCursor;
      }
      await store.recordResults(distributorId, tasks.slice(10).map((t) => ({ copyId: t.copyId, output: json(t.unitId) })), T0);
      const tail = await store.listResults(p.id, cursor, 100);
      seen.push(...tail.results.map((r) => r.unitId));
      expect(seen).toEqual(tasks.map((t) => t.unitId));
      expect(new TextDecoder().decode(fromBinary(ResultSchema, tail.results[0]!.fields).output)).toBe(JSON.stringify(tasks[10]!.unitId));
    });

    it("gives the cursor after which the latest results follow", async () => {
      const p = await project();
      await store.addUnits(p.id, Array.from({ length: 5 }, (_, i) => ({ input: json(i), priority: 0 })), T0);
      const tasks = await store.leaseCopies(distributorId, 10, T0);
      await store.recordResults(distributorId, tasks.map((t) => ({ copyId: t.copyId, output: json(t.unitId) })), T0);
      const latestTwo = await store.listResults(p.id, await store.latestResultsCursor(p.id, 2), 10);
      expect(latestTwo.results.map((r) => r.unitId)).toEqual(tasks.slice(3).map((t) => t.unitId));
      expect(await store.latestResultsCursor(p.id, 5)).toBe("");
      expect(await store.latestResultsCursor(p.id, 50)).toBe("");
      expect((await store.listResults(p.id, await store.latestResultsCursor(p.id, 0), 10)).results).toEqual([]);
    });

    it("manages distributors: register, heartbeat notices, drain, revoke requeues its copies", async () => {
      const d = await store.getDistributorByTokenHash("h1");
      expect(d).toMatchObject({ id: distributorId, name: "d1", revoked: false, registeredAtMs: undefined });
      await expect(store.createDistributor({ name: "d1", region: "", tokenHash: "x" }, T0)).rejects.toThrow(/exists/);
      const reg = await store.registerDistributor(distributorId, { publicUrl: "http://d1", region: "eu", capacity: 100, version: "1" }, T0 + 1);
      expect(reg).toMatchObject({ publicUrl: "http://d1", capacity: 100, registeredAtMs: T0 + 1, lastSeenMs: T0 + 1 });
      const p = await project({ replication: 2, quorum: 1, maxAttempts: 2 });
      const [u] = await store.addUnits(p.id, [{ input: json(1), priority: 0 }], T0);
      const a = await store.leaseCopies(distributorId, 1, T0);
      const b = await store.leaseCopies(distributorId, 1, T0);
      await store.recordResults(distributorId, [{ copyId: a[0]!.copyId, output: json(1) }], T0);
      const hb = await store.heartbeat(
        distributorId,
        { heldCopies: 3, clients: 2, bufferedResults: 1, freeSlots: 9 },
        [{ clientId: "k", platform: "node", joinMs: T0, lastSeenMs: T0 + 30_000, results: 5 }],
        T0 + 2,
        100,
      );
      expect(hb.finishedUnitIds).toEqual([u]);
      expect((await store.heartbeat(distributorId, { heldCopies: 0, clients: 0, bufferedResults: 0, freeSlots: 0 }, [], T0 + 3, 100)).finishedUnitIds).toEqual([]);
      expect(await store.recentLifespans(10)).toEqual([{ platform: "node", lifespanMs: 30_000 }]);
      expect((await store.getDistributor(distributorId)).lastSeenMs).toBe(T0 + 3);
      expect((await store.drainDistributor(distributorId)).draining).toBe(true);
      const q = await project();
      await store.addUnits(q.id, [{ input: json(1), priority: 0 }, { input: json(2), priority: 0 }], T0);
      await store.leaseCopies(distributorId, 10, T0);
      expect(await store.revokeDistributor(distributorId, T0)).toBe(3);
      expect((await store.getDistributorByTokenHash("h1"))!.revoked).toBe(true);
      expect((await store.getProject(q.id)).counts).toMatchObject({ queued: 2, running: 0 });
      expect(b).toHaveLength(1);
      expect((await store.listDistributors()).map((x) => x.name)).toEqual(["d1"]);
    });

    it("records from heartbeats which client each pending copy was given to, and only that", async () => {
      const p = await project({ replication: 2 });
      const [u] = await store.addUnits(p.id, [{ input: json(1), priority: 0 }], T0);
      const [first] = await store.leaseCopies(distributorId, 1, T0);
      const [second] = await store.leaseCopies(distributorId, 1, T0);
      await store.recordResults(distributorId, [{ copyId: first!.copyId, output: json(1), clientId: "k1" }], T0);
      const other = (await store.createDistributor({ name: "d-other", region: "", tokenHash: "h-other" }, T0)).id;
      const q = await project({ name: "theirs" });
      const [theirUnit] = await store.addUnits(q.id, [{ input: json(2), priority: 0 }], T0);
      const [theirs] = await store.leaseCopies(other, 1, T0);
      expect(theirs!.unitId).toBe(theirUnit);
      const load = { heldCopies: 1, clients: 1, bufferedResults: 0, freeSlots: 9 };
      await store.heartbeat(distributorId, load, [], T0 + 1, 100, [
        { copyId: second!.copyId, clientId: "k2" },
        { copyId: first!.copyId, clientId: "liar" },
        { copyId: "c999999", clientId: "k3" },
        { copyId: theirs!.copyId, clientId: "k4" },
      ]);
      expect((await store.getUnit(u!)).copies.map((c) => [c.id, c.clientId])).toEqual([
        [first!.copyId, "k1"],
        [second!.copyId, "k2"],
      ]);
      expect((await store.getUnit(theirUnit!)).copies.map((c) => c.clientId)).toEqual([undefined]);
    });

    it("re-decides open units when quorum settings change", async () => {
      const p = await project({ replication: 1 });
      const [u] = await store.addUnits(p.id, [{ input: json(1), priority: 0 }], T0);
      const current = await store.getProject(p.id);
      await store.updateProject(p.id, { settings: { ...current, replication: 3, quorum: 2, maxAttempts: 5 } }, T0);
      const tasks = [...(await store.leaseCopies(distributorId, 10, T0)), ...(await store.leaseCopies(distributorId, 10, T0)), ...(await store.leaseCopies(distributorId, 10, T0))];
      expect(tasks.map((t) => t.unitId)).toEqual([u, u, u]);
    });

    describe("wake-ups", () => {
      /** Whether `kind` woke a waiter parked before `change` ran (a waiter's budget is far longer than the test). */
      async function wakes(kind: StoreChangeKind, change: () => Promise<unknown>): Promise<boolean> {
        const since = store.changes.version(kind);
        let woke = false;
        const parked = store.changes.wait(kind, 60_000, undefined, since).then(() => (woke = true));
        await change();
        // An in-process emit wakes it at once; a shared engine's change feed gets a moment.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([parked, new Promise((resolve) => (timer = setTimeout(resolve, 2_000)))]);
        clearTimeout(timer);
        return woke && store.changes.version(kind) > since;
      }

      it("wakes lease waiters when units are added, released, requeued or a project is resumed", async () => {
        const p = await project({}, true);
        expect(await wakes("unitsReady", () => store.updateProject(p.id, { state: "active" }, T0))).toBe(true);
        expect(await wakes("unitsReady", () => store.addUnits(p.id, [{ input: json(1), priority: 0 }], T0))).toBe(true);
        const [task] = await store.leaseCopies(distributorId, 1, T0);
        expect(await wakes("unitsReady", () => store.releaseCopies(distributorId, [task!.copyId], T0))).toBe(true);
        const [again] = await store.leaseCopies(distributorId, 1, T0);
        await store.recordResults(distributorId, [{ copyId: again!.copyId, output: json(2) }], T0);
        expect(await wakes("unitsReady", () => store.requeueUnits(p.id, { state: "done" }, T0))).toBe(true);
      });

      it("wakes lease waiters when an expired lease sends its unit back", async () => {
        const p = await project({ leaseTimeoutMs: 1_000 });
        await store.addUnits(p.id, [{ input: json(1), priority: 0 }], T0);
        await store.leaseCopies(distributorId, 1, T0);
        expect(await wakes("unitsReady", () => store.requeueExpired(T0 + 2_000, 100))).toBe(true);
      });

      it("wakes result watchers when a report finishes units, and when units are cancelled", async () => {
        const p = await project();
        const [, cancelled] = await store.addUnits(p.id, [{ input: json(1), priority: 0 }, { input: json(2), priority: 0 }], T0);
        const [task] = await store.leaseCopies(distributorId, 1, T0);
        expect(await wakes("unitsFinished", () => store.recordResults(distributorId, [{ copyId: task!.copyId, output: json(2) }], T0))).toBe(true);
        expect(await wakes("unitsFinished", () => store.cancelUnits(p.id, [cancelled!], T0))).toBe(true);
      });

      it("resolves a wait at once for a change after its version, and after its timeout when nothing changes", async () => {
        const since = store.changes.version("unitsReady");
        await store.addUnits((await project()).id, [{ input: json(1), priority: 0 }], T0);
        await store.changes.wait("unitsReady", 60_000, undefined, since);
        const quiet = store.changes.version("unitsFinished");
        await store.changes.wait("unitsFinished", 20, undefined, quiet);
        expect(store.changes.version("unitsFinished")).toBe(quiet);
        expect(store.changes.waiting("unitsFinished")).toBe(0);
      });
    });
  });
}
