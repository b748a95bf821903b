import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { storeConformance } from "../store-conformance.js";
import type { ManagerStore } from "../store.js";
import { openSqliteStore } from "./sqlite-store.js";

const dirs = new Map<ManagerStore, string>();

storeConformance("sqlite", {
  async create() {
    const dir = mkdtempSync(join(tmpdir(), "disio-store-"));
    const store = openSqliteStore({ path: join(dir, "manager.sqlite") });
    dirs.set(store, dir);
    return store;
  },
  async reopen(store) {
    const dir = dirs.get(store)!;
    await store.close();
    dirs.delete(store);
    const reopened = openSqliteStore({ path: join(dir, "manager.sqlite") });
    dirs.set(reopened, dir);
    return reopened;
  },
  async destroy(store) {
    await store.close();
    rmSync(dirs.get(store)!, { recursive: true, force: true });
    dirs.delete(store);
  },
});

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
});
