import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveProjectSettings } from "../core/project-settings.js";
import { encodeListResultsResponse } from "../manager/mappers/results-response-encoder.js";
import { openSqliteStore } from "../manager/store/sqlite/sqlite-store.js";

/**
 * `node dist/bench/results-page.js [units]`: the manager's side of `disio results --out`, in-process
 * and in CPU time (the machine is shared): finishes `units` (default 50,000) units through
 * recordResults (printing its CPU per unit), then reads every result page as ListResults does
 * (`store.listResults`, pages of 10,000) and encodes it, three times, printing µs per row of each.
 */

/** CPU milliseconds (user + system) of this process since `since`. */
const cpuMs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};
const units = Number(process.argv[2] ?? 50_000);
const dir = mkdtempSync(join(tmpdir(), "disio-bench-results-page-"));
try {
  const store = openSqliteStore({ path: join(dir, "m.sqlite") });
  const now = Date.now();
  const d = (await store.createDistributor({ name: "d", region: "eu", tokenHash: "h" }, now)).id;
  const p = await store.createProject({ settings: resolveProjectSettings({ name: "p" }), programHash: "x", hasValidator: false, paused: false, nowMs: now });
  const enc = new TextEncoder();
  let finishMs = 0;
  for (let i = 0; i < units; i += 5000) {
    await store.addUnits(p.id, Array.from({ length: 5000 }, (_, k) => ({ input: enc.encode(`{"n":${i + k},"pad":"abcdefghijklmnop"}`), priority: 0 })), now);
    const tasks = await store.leaseCopies(d, 5000, now);
    const t0 = process.cpuUsage();
    await store.recordResults(d, tasks.map((t) => ({ copyId: t.copyId, output: enc.encode(`{"n":${i},"pad":"abcdefghijklmnop","x":1}`), durationMs: 1 })), now);
    finishMs += cpuMs(t0);
  }
  console.log(JSON.stringify({ units, recordResultsUsPerUnit: Number(((finishMs * 1000) / units).toFixed(2)) }));
  for (let round = 0; round < 3; round++) {
    let cursor = "";
    let read = 0;
    let encode = 0;
    let rows = 0;
    for (;;) {
      const t0 = process.cpuUsage();
      const page = await store.listResults(p.id, cursor, 10_000, 4 * 1024 * 1024);
      const t1 = process.cpuUsage();
      encodeListResultsResponse(page.results, page.nextCursor);
      encode += cpuMs(t1);
      read += cpuMs(t0) - cpuMs(t1);
      rows += page.results.length;
      if (page.results.length === 0) break;
      cursor = page.nextCursor;
    }
    console.log(JSON.stringify({ rows, readUsPerRow: Number(((read * 1000) / rows).toFixed(2)), encodeUsPerRow: Number(((encode * 1000) / rows).toFixed(2)) }));
  }
  store.close?.();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
