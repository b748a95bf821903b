import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolveProjectSettings, type ProjectSettingsInput } from "../../core/project-settings.js";
import type { StoreFactory } from "./store-conformance.js";
import type { ManagerStore } from "./store.js";

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const T0 = 1_700_000_000_000;

/**
 * Registers the conformance suite of {@link ManagerStore.adoptExtraCopies}: every backend must pass
 * it. Extra copies are made by a distributor cut off from its managers; adopted, they count as
 * leased copies.
 */
export function extraCopiesConformance(name: string, factory: StoreFactory): void {
  describe(`ManagerStore extra copies conformance: ${name}`, () => {
    let store: ManagerStore;
    let distributorId: string;
    beforeEach(async () => {
      store = await factory.create();
      distributorId = (await store.createDistributor({ name: "d1", region: "eu", tokenHash: "h1" }, T0)).id;
    });
    afterEach(async () => {
      await factory.destroy(store);
    });

    /** A project of one unit, its first copy leased to `distributorId`. */
    async function leasedUnit(settings: Partial<ProjectSettingsInput>) {
      const p = await store.createProject({
        settings: resolveProjectSettings({ name: `p${Math.random()}`, ...settings }),
        programHash: "abc",
        hasValidator: false,
        paused: false,
        nowMs: T0,
      });
      const [unitId] = await store.addUnits(p.id, [{ input: json(1), priority: 0 }], T0);
      const [task] = await store.leaseCopies(distributorId, 1, T0);
      return { projectId: p.id, unitId: unitId!, copyId: task!.copyId };
    }

    it("opens a copy for an extra of a leased copy that counts toward quorum like a leased one", async () => {
      const { projectId, unitId, copyId } = await leasedUnit({ replication: 2, quorum: 2 });
      const extra = { extraCopyId: `${copyId}~x1`, extraOfCopyId: copyId };
      const adopted = await store.adoptExtraCopies(distributorId, [extra], T0 + 10);
      const adoptedId = adopted.get(extra.extraCopyId)!;
      expect(adoptedId).toMatch(/^c\d+$/);
      expect(adoptedId).not.toBe(copyId);
      // A Report sent again adopts nothing twice.
      expect(await store.adoptExtraCopies(distributorId, [extra], T0 + 20)).toEqual(new Map([[extra.extraCopyId, adoptedId]]));
      const open = await store.getUnit(unitId);
      expect([open.state, open.copiesSent, open.attempts]).toEqual(["running", 2, 2]);
      expect(open.copies.map((c) => [c.id, c.outcome, c.distributorId, c.sentAtMs, c.deadlineMs])).toEqual([
        [copyId, "pending", distributorId, T0, T0 + 60_000],
        [adoptedId, "pending", distributorId, T0 + 10, T0 + 10 + 60_000],
      ]);
      // The extra stood in for the unit's second copy: nothing left to lease.
      expect(await store.leaseCopies(distributorId, 10, T0 + 30)).toEqual([]);
      expect((await store.getProject(projectId)).copiesOut).toBe(2);

      const out = await store.recordResults(
        distributorId,
        [
          { copyId, output: json(7), clientId: "s-a", clientKey: "k-a" },
          { copyId: adoptedId, output: json(7), clientId: "s-b", clientKey: "k-b" },
        ],
        T0 + 40,
      );
      expect(out).toMatchObject({ accepted: 2, unknown: 0, refused: 0, unitsFinished: 1 });
      const done = await store.getUnit(unitId);
      expect([done.state, done.selfAgreement, new TextDecoder().decode(done.output)]).toEqual(["done", false, "7"]);
      expect(done.copies.map((c) => [c.outcome, c.clientKey])).toEqual([["ok", "k-a"], ["ok", "k-b"]]);
      expect((await store.getProject(projectId)).copiesOut).toBe(0);
      // Done now: a further extra of it is not adopted.
      expect(await store.adoptExtraCopies(distributorId, [{ extraCopyId: `${copyId}~x2`, extraOfCopyId: copyId }], T0 + 50)).toEqual(new Map());
    });

    it("counts an extra computed by the volunteer of the leased copy as that volunteer's second vote", async () => {
      const { unitId, copyId } = await leasedUnit({ replication: 2, quorum: 2 });
      const adoptedId = (await store.adoptExtraCopies(distributorId, [{ extraCopyId: `${copyId}~x1`, extraOfCopyId: copyId }], T0)).get(`${copyId}~x1`)!;
      await store.recordResults(
        distributorId,
        [
          { copyId, output: json(7), clientId: "s-a", clientKey: "k-a" },
          { copyId: adoptedId, output: json(7), clientId: "s-a2", clientKey: "k-a" },
        ],
        T0 + 1,
      );
      const unit = await store.getUnit(unitId);
      expect([unit.state, unit.selfAgreement]).toEqual(["done", true]);
    });

    it("counts an extra's error as a used attempt", async () => {
      const { unitId, copyId } = await leasedUnit({ replication: 1, quorum: 1, maxAttempts: 2 });
      const adoptedId = (await store.adoptExtraCopies(distributorId, [{ extraCopyId: `${copyId}~x1`, extraOfCopyId: copyId }], T0)).get(`${copyId}~x1`)!;
      await store.recordResults(
        distributorId,
        [
          { copyId: adoptedId, error: { message: "boom", kind: "exception" }, clientId: "s-b", clientKey: "k-b" },
          { copyId, error: { message: "boom", kind: "exception" }, clientId: "s-a", clientKey: "k-a" },
        ],
        T0 + 1,
      );
      const unit = await store.getUnit(unitId);
      expect([unit.state, unit.attempts]).toEqual(["failed", 2]);
    });

    it("adopts no extra of another distributor's copy, of an unknown copy or of a finished unit", async () => {
      const { unitId, copyId } = await leasedUnit({ replication: 2, quorum: 2 });
      const other = (await store.createDistributor({ name: "d2", region: "", tokenHash: "h2" }, T0)).id;
      const claims = [
        { extraCopyId: "x-foreign", extraOfCopyId: copyId },
        { extraCopyId: "x-unknown", extraOfCopyId: "c99999" },
        { extraCopyId: "x-garbage", extraOfCopyId: "garbage" },
      ];
      expect(await store.adoptExtraCopies(other, claims, T0)).toEqual(new Map());
      expect(await store.adoptExtraCopies(distributorId, claims.slice(1), T0)).toEqual(new Map());
      const unit = await store.getUnit(unitId);
      expect([unit.copiesSent, unit.copies.length]).toEqual([1, 1]);
      await store.cancelUnits((await store.getUnit(unitId)).projectId, [unitId], T0);
      expect(await store.adoptExtraCopies(distributorId, [{ extraCopyId: "x-late", extraOfCopyId: copyId }], T0)).toEqual(new Map());
    });
  });
}
