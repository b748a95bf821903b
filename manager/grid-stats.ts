import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { GetStatsResponseSchema, LifespanStatsSchema, ProjectStatsSchema, type GetStatsResponse, type LifespanStats } from "../gen/disio/v1/admin_service_pb.js";
import { distributorStatus } from "../core/distributor-status.js";
import { lifespanStats, type LifespanSummary } from "../core/lifespan-stats.js";
import { etaMs } from "../core/throughput.js";
import type { ManagerContext } from "./manager-context.js";
import { toProtoDistributor } from "./mappers/distributor-mapper.js";
import { toProtoProjectState } from "./mappers/enums.js";
import { toProtoCounts } from "./mappers/project-mapper.js";
import type { ProjectRecord } from "./store/store.js";

/** Client sessions the lifespan statistics are computed over (the most recent ones). */
const LIFESPAN_SAMPLE = 10_000;
const MAX_PROJECTS_IN_STATS = 1_000;

/**
 * The grid's picture for GetStats/WatchStats: per-project counts (store counters), units/s over
 * the last minute (the in-memory meter), ETA, copies out, client lifespans (all clients, and per
 * platform, each with its histogram) and distributor load.
 */
export async function gridStats(ctx: ManagerContext, projectId: string): Promise<GetStatsResponse> {
  const now = ctx.now();
  const projects: ProjectRecord[] =
    projectId !== "" ? [await ctx.store.getProject(projectId)] : (await ctx.store.listProjects({ limit: MAX_PROJECTS_IN_STATS })).projects;
  const [lifespans, byDistributor, distributors, computing] = await Promise.all([
    ctx.store.recentLifespans(LIFESPAN_SAMPLE),
    ctx.store.recentLifespansByDistributor(LIFESPAN_SAMPLE),
    ctx.store.listDistributors(),
    ctx.store.computingCounts(),
  ]);
  const online = distributors.filter(
    (d) => distributorStatus({ ...d, registered: d.registeredAtMs !== undefined }, now, ctx.limits.heartbeatIntervalMs) === "online",
  );
  const byPlatform = new Map<string, number[]>();
  for (const { platform, lifespanMs } of lifespans) {
    let list = byPlatform.get(platform);
    if (list === undefined) byPlatform.set(platform, (list = []));
    list.push(lifespanMs);
  }
  return create(GetStatsResponseSchema, {
    projects: projects.map((p) => {
      const rate = ctx.meter.rate(p.id, now);
      const eta = etaMs(p.counts.queued + p.counts.running, rate);
      const atClients = computing.get(p.id) ?? { copies: 0, units: 0 };
      const lastFinish = ctx.meter.lastFinishMs(p.id);
      const history = ctx.meter.history(p.id, now);
      return create(ProjectStatsSchema, {
        projectId: p.id,
        name: p.name,
        state: toProtoProjectState(p.state),
        counts: toProtoCounts(p.counts),
        unitsPerSecond: rate,
        ...(eta !== undefined && { eta: durationFromMs(eta) }),
        copiesOut: BigInt(p.copiesOut),
        unitsComputing: BigInt(atClients.units),
        copiesComputing: BigInt(atClients.copies),
        copiesHeld: BigInt(Math.max(0, p.copiesOut - atClients.copies)),
        ...(lastFinish !== undefined && { lastFinishTime: timestampFromMs(lastFinish) }),
        finishedPerMinute: history.counts.map(BigInt),
        minutesStart: timestampFromMs(history.startMs),
      });
    }),
    clientLifespan: toProtoLifespan(lifespanStats(lifespans.map((l) => l.lifespanMs)), ""),
    platformLifespans: [...byPlatform]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([platform, ms]) => toProtoLifespan(lifespanStats(ms), platform)),
    distributorLifespans: Object.fromEntries([...byDistributor].map(([id, list]) => [id, toProtoLifespan(lifespanStats(list), "")])),
    distributors: distributors.map((d) => toProtoDistributor(d, now, ctx.limits.heartbeatIntervalMs)),
    onlineDistributors: online.length,
    connectedClients: online.reduce((sum, d) => sum + d.clients, 0),
    time: timestampFromMs(now),
  });
}

function toProtoLifespan(life: LifespanSummary, platform: string): LifespanStats {
  return create(LifespanStatsSchema, {
    clients: BigInt(life.clients),
    mode: durationFromMs(Math.round(life.modeMs)),
    mean: durationFromMs(Math.round(life.meanMs)),
    median: durationFromMs(Math.round(life.medianMs)),
    p90: durationFromMs(Math.round(life.p90Ms)),
    buckets: life.buckets.map((bucket) => ({ ...(bucket.belowMs !== undefined && { upperBound: durationFromMs(bucket.belowMs) }), clients: BigInt(bucket.clients) })),
    platform,
  });
}

/** Finished (final-state) units of a project, the count the throughput meter samples. */
export function finishedUnits(p: ProjectRecord): number {
  return p.counts.done + p.counts.failed + p.counts.expired + p.counts.cancelled;
}
