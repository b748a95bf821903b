import { setTimeout as sleep } from "node:timers/promises";
import { startGridServers } from "../grid-fixture.js";
import { floodPost, type FloodOutcome } from "./flood-requests.js";
import { RssWatch } from "./rss-watch.js";
import { failedChecks, type Verdict } from "./verdict.js";

const MIB = 1024 * 1024;

/** Peak RSS that passes while the flood runs, MiB. */
const PEAK_LIMIT_MB = { manager: 300, distributor: 400 };

async function healthy(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/healthz`)).ok;
  } catch {
    return false;
  }
}

/**
 * anonymous-flood: at once, 24 concurrent 60 MiB POSTs with no token to the manager's
 * AdminService/AddUnits and 32 concurrent 15 MiB anonymous Joins to the distributor (the same in
 * the short run: fewer would hide a server that buffers them). RSS is sampled every 50 ms. Passes
 * when every request got an HTTP answer, both servers still answer /healthz, and their peak RSS
 * stayed under 300 / 400 MB.
 */
export async function anonymousFlood(): Promise<Verdict> {
  const started = performance.now();
  const [adminPosts, joins] = [24, 32];
  const grid = await startGridServers({ prefix: "disio-chaos-anonymous-flood-" });
  try {
    const rss = new RssWatch(grid, 50);
    const outcomes: FloodOutcome[] = await Promise.all([
      floodPost(`${grid.manager.url}/disio.v1.AdminService/AddUnits`, Buffer.alloc(60 * MIB, 1), "application/proto", adminPosts),
      floodPost(`${grid.distributor.url}/disio.v1.DistributorService/Join`, Buffer.alloc(15 * MIB, 1), "application/proto", joins),
    ]);
    await sleep(1_000);
    const rssMb = rss.stop();
    const isHealthy = (await healthy(grid.manager.url)) && (await healthy(grid.distributor.url));
    const [manager, distributor] = outcomes as [FloodOutcome, FloodOutcome];
    const statuses: Record<string, number> = {};
    for (const [server, outcome] of [["manager", manager], ["distributor", distributor]] as const) {
      for (const [status, count] of Object.entries(outcome.statuses)) statuses[`${server} ${status}`] = count;
    }
    const requests = {
      sent: manager.sent + distributor.sent,
      answered: manager.answered + distributor.answered,
      unanswered: manager.unanswered + distributor.unanswered,
      statuses,
    };
    const problems = failedChecks([
      ["unanswered requests", requests.unanswered, 0],
      ["manager peak RSS MB", rssMb.manager.peakMb, PEAK_LIMIT_MB.manager],
      ["distributor peak RSS MB", rssMb.distributor.peakMb, PEAK_LIMIT_MB.distributor],
    ]);
    if (!isHealthy) problems.push("a server stopped answering /healthz");
    const seconds = (performance.now() - started) / 1000;
    return { scenario: "anonymous-flood", requests, healthy: isHealthy, rssMb, seconds, problems, pass: problems.length === 0 };
  } finally {
    await grid.close();
  }
}
