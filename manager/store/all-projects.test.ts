import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { resolveProjectSettings } from "../../core/project-settings.js";
import { allProjects } from "./all-projects.js";
import { openSqliteStore, type SqliteStore } from "./sqlite/sqlite-store.js";

describe("allProjects", () => {
  let dir = "";
  let store: SqliteStore | undefined;
  afterEach(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads every project, past the first page", async () => {
    dir = mkdtempSync(join(tmpdir(), "disio-all-projects-"));
    store = openSqliteStore({ path: join(dir, "manager.sqlite") });
    for (let i = 0; i < 2_345; i++) {
      await store.createProject({ settings: resolveProjectSettings({ name: `p${i}` }), programHash: "ab".repeat(32), hasValidator: false, paused: i === 0, nowMs: 1_000 + i });
    }
    const projects = await allProjects(store);
    expect(projects).toHaveLength(2_345);
    expect(new Set(projects.map((p) => p.id)).size).toBe(2_345);
    expect(projects.filter((p) => p.state === "paused").map((p) => p.name)).toEqual(["p0"]);
  });
});
