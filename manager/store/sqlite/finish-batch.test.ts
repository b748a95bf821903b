import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import type { ProjectSettings } from "../../../core/project-settings.js";
import type { ReportedResult } from "../store.js";
import { openSqliteStore, type SqliteStore } from "./sqlite-store.js";

const NOW = 1_700_000_000_000;
const json = (text: string) => new TextEncoder().encode(text);

function settings(name: string, s: Partial<ProjectSettings>): ProjectSettings {
  return { name, inputEncoding: "json", outputEncoding: "json", replication: 1, quorum: 1, maxAttempts: 3, leaseTimeoutMs: 60_000, deadlineMs: undefined, priority: 0, adaptiveReplication: false, canaryRate: 0, ...s };
}

/** Every row the store keeps about units, copies and results, in id order. */
function dump(store: SqliteStore) {
  const db = (store as unknown as { db: Database.Database }).db;
  const all = (sql: string) => db.prepare(sql).all();
  return {
    projects: all("SELECT * FROM projects ORDER BY id"),
    units: all("SELECT * FROM units ORDER BY id"),
    copies: all("SELECT * FROM copies ORDER BY id"),
    results: all("SELECT * FROM results ORDER BY seq"),
    notices: all("SELECT * FROM unit_notices ORDER BY seq"),
  };
}

/**
 * One scenario with every kind of result in one batch: quorum-1 OKs (the batched case, canonical and
 * not, with and without other copies out), duplicates within the batch and from an earlier batch,
 * unknown ids, errors, invalid JSON, a result for a released copy, a second copy of a unit finished
 * earlier in the same batch (agreeing and not), quorum-2 agreement and disagreement, bytes outputs.
 */
async function scenario(store: SqliteStore) {
  const d = await store.createDistributor({ name: "d", region: "", tokenHash: "h" }, NOW);
  const project = async (name: string, s: Partial<ProjectSettings>, n: number) => {
    const p = await store.createProject({ settings: settings(name, s), programHash: "ab".repeat(32), hasValidator: false, paused: false, nowMs: NOW });
    await store.addUnits(p.id, Array.from({ length: n }, (_, i) => ({ input: json(String(i)), priority: 0 })), NOW);
  };
  await project("single", {}, 7);
  await project("two-copies", { replication: 2 }, 3);
  await project("quorum-two", { replication: 2, quorum: 2 }, 2);
  await project("bytes", { inputEncoding: "bytes", outputEncoding: "bytes" }, 2);
  const leased = [...(await store.leaseCopies(d.id, 100, NOW)), ...(await store.leaseCopies(d.id, 100, NOW))];
  const copy = (unitIndex: number, nth = 0) => leased.filter((t) => t.unitId === `u${unitIndex.toString(36)}`)[nth]!.copyId;
  expect(leased).toHaveLength(19);

  await store.releaseCopies(d.id, [copy(4)], NOW);
  const earlier = await store.recordResults(d.id, [{ copyId: copy(7), output: json("7") }], NOW);

  const ok = (copyId: string, text: string, extra: Partial<ReportedResult> = {}): ReportedResult => ({ copyId, output: json(text), ...extra });
  const batch: ReportedResult[] = [
    ok(copy(1), '{"b":1, "a":2}', { clientId: "client-1", durationMs: 12 }),
    ok(copy(1), '{"a":2,"b":1}'),
    ok(copy(7), "7"),
    ok("c999999", "1"),
    ok("not-an-id", "1"),
    { copyId: copy(2), error: { kind: "throw", message: "boom" }, clientId: "client-2" },
    ok(copy(3), "nope"),
    ok(copy(4), "4"),
    ok(copy(8, 0), "1"),
    ok(copy(8, 1), "2"),
    ok(copy(9, 0), "5"),
    ok(copy(9, 1), "5"),
    ok(copy(10, 0), "6"),
    ok(copy(11, 0), "7"),
    ok(copy(11, 1), "7"),
    ok(copy(12, 0), "1"),
    ok(copy(12, 1), "2"),
    { copyId: copy(13), output: Uint8Array.of(0, 255) },
    { copyId: copy(14) },
    ok(copy(5), "[1,2]", { durationMs: 3 }),
    ok(copy(6), "6"),
  ];
  const outcome = await store.recordResults(d.id, batch, NOW + 1);
  return { earlier, outcome, rows: dump(store) };
}

describe("FinishBatch (recordResults' batched common case)", () => {
  const dirs: string[] = [];
  const open = (batchFinishes: boolean) => {
    const dir = mkdtempSync(join(tmpdir(), "disio-finish-"));
    dirs.push(dir);
    return openSqliteStore({ path: join(dir, "m.sqlite"), batchFinishes });
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("writes exactly what recording results one at a time writes", async () => {
    const batched = open(true);
    const single = open(false);
    const a = await scenario(batched);
    const b = await scenario(single);
    await batched.close();
    await single.close();
    expect(a).toEqual(b);
    expect(a.outcome).toEqual({ accepted: 17, duplicates: 2, unknown: 2, refused: 0, unitsReopened: true, unitsFinished: 9, unitsToValidate: 0 });
    const units = a.rows.units as Array<{ id: number; state: number; output: Buffer | null; result_seq: number | null }>;
    expect(units.map((u) => u.state)).toEqual([3, 1, 1, 3, 3, 3, 3, 3, 3, 3, 3, 1, 3, 1]);
    expect(new TextDecoder().decode(units[0]!.output!)).toBe('{"a":2,"b":1}');
    const results = a.rows.results as Array<{ seq: number; unit_id: number }>;
    expect(results.map((r) => r.unit_id)).toEqual([7, 1, 4, 8, 9, 10, 11, 13, 5, 6]);
    for (const r of results) expect(units[r.unit_id - 1]!.result_seq).toBe(r.seq);
    expect((a.rows.notices as Array<{ unit_id: number }>).map((n) => n.unit_id)).toEqual([8, 9, 10]);
  });
});
