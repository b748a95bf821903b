import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { resolveProjectSettings } from "../../../core/project-settings.js";
import { toProtoResult } from "../../mappers/unit-mapper.js";
import type { ManagerStore } from "../store.js";
import { prepareQueries } from "./queries.js";
import { applySchema } from "./schema.js";
import { openSqliteStore } from "./sqlite-store.js";

// The conformance suite runs through the factory in ../store-conformance.test.ts; here, what is SQLite's own.
describe("SqliteStore", () => {
  it("uses the ready index for leasing and the pending index for expiry", () => {
    const dir = mkdtempSync(join(tmpdir(), "disio-store-"));
    try {
      const store = openSqliteStore({ path: join(dir, "m.sqlite") });
      const db = (store as unknown as { db: import("better-sqlite3").Database }).db;
      const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((r) => r.detail).join("; ");
      expect(plan("SELECT id FROM units WHERE project_id = 1 AND need > 0 ORDER BY priority DESC, id LIMIT 10")).toMatch(/USING INDEX units_ready/);
      expect(plan("SELECT id FROM units WHERE project_id = 1 AND need > 0 ORDER BY priority DESC, id LIMIT 10")).not.toMatch(/TEMP B-TREE/);
      expect(plan("SELECT id FROM copies WHERE outcome = 1 AND deadline <= 5 ORDER BY deadline LIMIT 10")).toMatch(/copies_pending_deadline/);
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
      void store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("looks up a report batch's failed clients through the copies' unit index", () => {
    const db = new Database(":memory:");
    try {
      applySchema(db);
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${prepareQueries(db).failedClients.source}`).all("[1, 2]") as Array<{ detail: string }>)
        .map((r) => r.detail)
        .join("; ");
      expect(plan).toMatch(/SEARCH c USING INDEX copies_by_unit/);
      expect(plan).not.toMatch(/SCAN c\b/);
    } finally {
      db.close();
    }
  });

  it("adds the columns a database of an earlier version lacks, keeping its rows", async () => {
    const dir = mkdtempSync(join(tmpdir(), "disio-store-"));
    const path = join(dir, "m.sqlite");
    try {
      const store = openSqliteStore({ path });
      const p = await store.createProject({ settings: resolveProjectSettings({ name: "old" }), programHash: "h", hasValidator: false, paused: false, nowMs: 1 });
      const [u] = await store.addUnits(p.id, [{ input: new TextEncoder().encode("1"), priority: 0 }], 1);
      await store.close();
      const old = new Database(path);
      old.exec("ALTER TABLE units DROP COLUMN repeat_failures");
      old.close();
      const reopened = openSqliteStore({ path });
      const distributor = await reopened.createDistributor({ name: "d", region: "", tokenHash: "t" }, 1);
      for (let i = 0; i < 2; i++) {
        const [t] = await reopened.leaseCopies(distributor.id, 1, 1);
        await reopened.recordResults(distributor.id, [{ copyId: t!.copyId, error: { kind: "throw", message: "x" }, clientId: "A" }], 1);
      }
      expect(await reopened.getUnit(u!)).toMatchObject({ state: "queued", attempts: 1, copiesSent: 2 });
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("fills in the stored result fields of units finished before the column existed, on both finish paths", async () => {
    const dir = mkdtempSync(join(tmpdir(), "disio-store-"));
    const path = join(dir, "m.sqlite");
    try {
      // Quorum 1 finishes through FinishBatch, quorum 2 through the one-at-a-time path.
      const store = openSqliteStore({ path });
      const distributor = await store.createDistributor({ name: "d", region: "", tokenHash: "t" }, 1);
      for (const [name, replication] of [["one", 1], ["two", 2]] as const) {
        const p = await store.createProject({ settings: resolveProjectSettings({ name, replication, quorum: replication }), programHash: "h", hasValidator: false, paused: false, nowMs: 1 });
        await store.addUnits(p.id, [1, 2].map((n) => ({ input: new TextEncoder().encode(String(n)), priority: 0 })), 1);
        for (let copy = 0; copy < replication; copy++) {
          const tasks = await store.leaseCopies(distributor.id, 10, 1);
          await store.recordResults(distributor.id, tasks.map((t) => ({ copyId: t.copyId, output: new TextEncoder().encode(`[${t.unitId.length}]`) })), 1_764_460_800_123);
        }
      }
      const pages = async (s: ManagerStore) => Promise.all(["p1", "p2"].map(async (p) => (await s.listResults(p, "", 10)).results));
      const before = await pages(store);
      expect(before.flat()).toHaveLength(4);
      await store.close();
      const old = new Database(path);
      old.exec("ALTER TABLE units DROP COLUMN result_fields");
      old.close();
      const reopened = openSqliteStore({ path });
      const after = await pages(reopened);
      expect(after).toEqual(before);
      const [one] = after[0]!;
      const result = toProtoResult(one!);
      expect(result).toMatchObject({ unitId: one!.unitId, copiesSent: 1, finishTime: { seconds: 1_764_460_800n, nanos: 123_000_000 } });
      expect([Buffer.from(result.input).toString(), Buffer.from(result.output).toString()]).toEqual(["1", "[2]"]);
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
