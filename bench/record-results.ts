import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pino from "pino";
import { resolveProjectSettings } from "../core/project-settings.js";
import { StoreHealth } from "../core/store-health.js";
import { openManagerStore } from "../manager/store/open-manager-store.js";
import { DEFAULT_MANAGER_STORE } from "../manager/store/store-url.js";

/**
 * `node dist/bench/record-results.js [--units 100000] [--replication 1] [--quorum 1] [--store <manager store>]`:
 * the manager store's CPU time per recorded result (`process.cpuUsage` around `recordResults` only,
 * so a busy machine skews it less than wall time), for the write-plan path of core/result-plan.ts.
 * Leases and reports in batches of 5,000, as distributors do. Prints one JSON line.
 */
const { values } = parseArgs({
  options: {
    units: { type: "string", default: "100000" },
    replication: { type: "string", default: "1" },
    quorum: { type: "string", default: "1" },
    store: { type: "string", default: DEFAULT_MANAGER_STORE },
  },
});
const units = Number(values.units);
const replication = Number(values.replication);
const quorum = Number(values.quorum);
const dir = mkdtempSync(join(tmpdir(), "disio-record-results-"));
const store = await openManagerStore({ store: values.store, dataDir: dir, health: new StoreHealth(), log: pino({ level: "silent" }) });
try {
  const settings = resolveProjectSettings({ name: "bench", replication, quorum });
  const project = await store.createProject({ settings, programHash: "h", hasValidator: false, paused: false, nowMs: 1 });
  const distributor = await store.createDistributor({ name: "d", region: "", tokenHash: "t" }, 1);
  const encoder = new TextEncoder();
  for (let i = 0; i < units; i += 10_000) {
    const batch = Array.from({ length: Math.min(10_000, units - i) }, (_, j) => ({ input: encoder.encode(JSON.stringify({ x: i + j })), priority: 0 }));
    await store.addUnits(project.id, batch, 1);
  }
  let cpuMicros = 0;
  let recorded = 0;
  for (;;) {
    const tasks = await store.leaseCopies(distributor.id, 5_000, 2);
    if (tasks.length === 0) break;
    // Outputs agree per unit; clients rotate so quorum sees distinct volunteers.
    const results = tasks.map((t, i) => ({
      copyId: t.copyId,
      output: encoder.encode(JSON.stringify({ y: t.unitId.length % 7 })),
      clientId: `c${i % 64}`,
      clientKey: `k${(recorded + i) % 997}`,
      durationMs: 5,
    }));
    const before = process.cpuUsage();
    await store.recordResults(distributor.id, results, 3);
    const used = process.cpuUsage(before);
    cpuMicros += used.user + used.system;
    recorded += results.length;
  }
  const done = (await store.getProject(project.id)).counts.done;
  console.log(JSON.stringify({ store: store.kind, units, replication, quorum, recorded, done, cpuMs: Math.round(cpuMicros / 1000), usPerResult: +(cpuMicros / recorded).toFixed(2) }));
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
