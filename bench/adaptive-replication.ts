/**
 * What adaptive replication saves, and what it risks: a lying client (wrong outputs for a share of
 * its tasks) beside two honest ones on a real manager and distributor (in process, over sockets),
 * replication 2 / quorum 2, once without and once with adaptive replication. Each run earns trust
 * on a warm-up project first, then computes the measured project. Prints one JSON line per run and
 * a Markdown table for BENCHMARKS.md.
 *
 *   npm run build && node dist/bench/adaptive-replication.js [--units 2000] [--warm-up 100] [--lie-share 0.2]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { createAdminClient } from "../cli/admin-client.js";
import { listAllResults } from "../cli/list-all-results.js";
import { startDistributor } from "../distributor/index.js";
import { ProjectState } from "../gen/disio/v1/common_pb.js";
import { startManager } from "../manager/index.js";
import { waitFor } from "./grid-fixture.js";
import { SQUARES, squaresInputs } from "./squares-project.js";
import { startVolunteer } from "./volunteer-client.js";

const { values } = parseArgs({
  options: {
    units: { type: "string", default: "2000" },
    "warm-up": { type: "string", default: "100" },
    "lie-share": { type: "string", default: "0.2" },
  },
});
const UNITS = Number(values.units);
const WARM_UP = Number(values["warm-up"]);
const LIE_SHARE = Number(values["lie-share"]);
const decoder = new TextDecoder();
const log = pino({ level: "silent" });

/** One run: the measured project's copies, results accepted alone, wrong canonical results, and the liar's standing. */
async function run(adaptiveReplication: boolean) {
  const dir = mkdtempSync(join(tmpdir(), "disio-bench-adaptive-"));
  const manager = await startManager({ dataDir: join(dir, "manager"), port: 0, log, sweepIntervalMs: 200, heartbeatIntervalMs: 500 });
  const admin = createAdminClient({ manager: manager.url, token: manager.adminToken });
  const { token } = await admin.createDistributor({ name: "edge" });
  const distributor = await startDistributor({ dataDir: join(dir, "distributor"), port: 0, managerUrls: [manager.url], token, log, leaseWaitMs: 500, flushIntervalMs: 50 });
  const volunteers = [];
  try {
    await waitFor("the distributor registered", async () => distributor.distributorId !== "", 10_000);
    const { project: warmUp } = await admin.createProject({ name: "warm-up", ...SQUARES, adaptiveReplication });
    await admin.addUnits({ projectId: warmUp!.id, units: squaresInputs(WARM_UP) });
    const { project } = await admin.createProject({ name: "measured", ...SQUARES, adaptiveReplication, paused: true });
    await admin.addUnits({ projectId: project!.id, units: squaresInputs(UNITS) });
    volunteers.push(startVolunteer(distributor.url, { clientKey: "liar-0123456789abcdef", lieShare: LIE_SHARE, slots: 4, delayMs: 2 }));
    volunteers.push(startVolunteer(distributor.url, { clientKey: "honest-1-0123456789abcdef", slots: 4, delayMs: 2 }));
    volunteers.push(startVolunteer(distributor.url, { clientKey: "honest-2-0123456789abcdef", slots: 4, delayMs: 2 }));
    await waitFor("the warm-up done", async () => (await admin.getProject({ id: warmUp!.id })).project!.state === ProjectState.DONE, 120_000);
    const started = Date.now();
    await admin.updateProject({ id: project!.id, state: ProjectState.ACTIVE });
    await waitFor("the measured project done", async () => (await admin.getProject({ id: project!.id })).project!.state === ProjectState.DONE, 600_000);
    const seconds = (Date.now() - started) / 1000;
    const tally = { copies: 0, unreplicated: 0, wrong: 0, wrongUnreplicated: 0 };
    for await (const r of listAllResults(admin, project!.id)) {
      const { n, square } = JSON.parse(decoder.decode(r.output)) as { n: number; square: number };
      tally.copies += r.copiesSent;
      if (r.unreplicated) tally.unreplicated++;
      if (square !== n * n) {
        tally.wrong++;
        if (r.unreplicated) tally.wrongUnreplicated++;
      }
    }
    const { clients } = await admin.listClients({});
    const liar = clients.find((c) => c.wrong > 0n);
    return {
      adaptiveReplication,
      units: UNITS,
      lieShare: LIE_SHARE,
      copiesSent: tally.copies,
      copiesPerUnit: Number((tally.copies / UNITS).toFixed(3)),
      acceptedAlone: tally.unreplicated,
      wrongCanonical: tally.wrong,
      wrongAcceptedAlone: tally.wrongUnreplicated,
      liarLies: volunteers[0]!.counts().lies,
      liarWrongVerdicts: Number(liar?.wrong ?? 0n),
      liarTrustAtEnd: Number(liar?.trust ?? 0n),
      seconds: Number(seconds.toFixed(1)),
    };
  } finally {
    await Promise.all(volunteers.map((v) => v.stop()));
    await distributor.close({ graceMs: 100 });
    await manager.close({ graceMs: 100 });
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows = [];
for (const adaptive of [false, true]) {
  const row = await run(adaptive);
  console.log(JSON.stringify(row));
  rows.push(row);
}
const [off, on] = rows as [Awaited<ReturnType<typeof run>>, Awaited<ReturnType<typeof run>>];
console.log("\n| adaptive replication | copies sent | copies / unit | accepted alone | wrong canonical | liar's wrong verdicts | liar's trust at end | time |");
console.log("|---|---|---|---|---|---|---|---|");
for (const r of rows) {
  console.log(
    `| ${r.adaptiveReplication ? "on" : "off"} | ${r.copiesSent} | ${r.copiesPerUnit} | ${r.acceptedAlone} | ${r.wrongCanonical} | ${r.liarWrongVerdicts} | ${r.liarTrustAtEnd} | ${r.seconds} s |`,
  );
}
console.log(`\ncopies saved: ${off.copiesSent - on.copiesSent} of ${off.copiesSent} (${(100 * (1 - on.copiesSent / off.copiesSent)).toFixed(1)} %)`);
