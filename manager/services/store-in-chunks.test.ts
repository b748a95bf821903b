import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolveProjectSettings } from "../../core/project-settings.js";
import { openSqliteStore } from "../store/sqlite/sqlite-store.js";
import type { ManagerStore } from "../store/store.js";
import { recordResultsInChunks, STORE_CHUNK_ROWS } from "./store-in-chunks.js";

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const now = () => 1_700_000_000_000;

describe("recordResultsInChunks", () => {
  let dir: string;
  let store: ManagerStore;
  let distributorId: string;
  let projectId: string;
  const units = STORE_CHUNK_ROWS * 2 + 500;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "disio-chunks-"));
    store = openSqliteStore({ path: join(dir, "m.sqlite") });
    distributorId = (await store.createDistributor({ name: "d", region: "", tokenHash: "t" }, now())).id;
    projectId = (await store.createProject({ settings: resolveProjectSettings({ name: "p" }), programHash: "h", hasValidator: false, paused: false, nowMs: now() })).id;
    await store.addUnits(projectId, Array.from({ length: units }, (_, i) => ({ input: json(i), priority: 0 })), now());
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("records as one call would, letting other work run between the parts", async () => {
    const tasks = await store.leaseCopies(distributorId, units, now());
    expect(tasks).toHaveLength(units);

    const results = tasks.map((t) => ({ copyId: t.copyId, output: json("ok") }));
    let ranBetween = 0;
    const other = setInterval(() => (ranBetween += 1), 0);
    const outcome = await recordResultsInChunks(store, distributorId, results, now);
    clearInterval(other);
    expect(outcome).toEqual({ accepted: units, duplicates: 0, unknown: 0, refused: 0, unitsReopened: false, unitsFinished: units, unitsToValidate: 0 });
    expect(ranBetween).toBeGreaterThan(0);
    expect((await store.getProject(projectId)).counts.done).toBe(units);
    // A retried report (the ack lost after every part committed) records nothing twice.
    expect(await recordResultsInChunks(store, distributorId, results, now)).toMatchObject({ accepted: 0, duplicates: units, unitsFinished: 0 });
  });
});
