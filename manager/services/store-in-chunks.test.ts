import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolveProjectSettings } from "../../core/project-settings.js";
import { openSqliteStore } from "../store/sqlite/sqlite-store.js";
import type { ManagerStore } from "../store/store.js";
import { leaseCopiesInChunks, recordResultsInChunks, STORE_CHUNK_ROWS } from "./store-in-chunks.js";

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const now = () => 1_700_000_000_000;

describe("Lease and Report in chunks", () => {
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

  it("leases and records as one call would, letting other work run between the parts", async () => {
    let ranBetween = 0;
    const other = setInterval(() => (ranBetween += 1), 0);
    const tasks = await leaseCopiesInChunks(store, distributorId, units + 100, now, { maxInputBytes: 1 << 30, largestInput: 1 << 20 });
    clearInterval(other);
    expect(tasks.map((t) => Buffer.from(t.input).toString())).toEqual(Array.from({ length: units }, (_, i) => String(i)));
    expect(new Set(tasks.map((t) => t.copyId)).size).toBe(units);

    const results = tasks.map((t) => ({ copyId: t.copyId, output: json("ok") }));
    let turns = 0;
    const counter = setImmediate(function tick() {
      turns += 1;
    });
    const outcome = await recordResultsInChunks(store, distributorId, results, now);
    clearImmediate(counter);
    expect(outcome).toEqual({ accepted: units, duplicates: 0, unknown: 0, refused: 0, unitsReopened: false, unitsFinished: units, unitsToValidate: 0 });
    expect(turns).toBe(1);
    expect(ranBetween).toBeGreaterThan(0);
    expect((await store.getProject(projectId)).counts.done).toBe(units);
    // A retried report (the ack lost after every part committed) records nothing twice.
    expect(await recordResultsInChunks(store, distributorId, results, now)).toMatchObject({ accepted: 0, duplicates: units, unitsFinished: 0 });
  });

  // The inputs of units 0–999 are "0" … "999"; the next ones "1000", "1001"… take 4 bytes each.
  const firstPartBytes = Array.from({ length: STORE_CHUNK_ROWS }, (_, i) => json(i).byteLength).reduce((a, b) => a + b);
  it.each([
    ["asks for another part when the budget left holds the largest input, within that budget", 11, STORE_CHUNK_ROWS + 2],
    ["stops when the budget left does not hold the largest input", 12, STORE_CHUNK_ROWS],
  ])("shares one input byte budget across the parts: %s", async (_, largestInput, leased) => {
    const tasks = await leaseCopiesInChunks(store, distributorId, units, now, { maxInputBytes: firstPartBytes + 11, largestInput });
    expect(tasks).toHaveLength(leased);
  });
});
