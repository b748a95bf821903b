import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { ProjectStats } from "../gen/disio/v1/admin_service_pb.js";

const MINUTE_MS = 60_000;

/**
 * A project's throughput over the last hour for the chart, from the manager's per-minute history
 * (ProjectStats.finished_per_minute): one point per minute at its start (s), in units per second.
 * The current minute, still running, is divided by the seconds it has lasted so far (`nowMs`).
 */
export function throughputSeries(stats: ProjectStats | undefined, nowMs: number): [number[], number[]] {
  if (!stats?.minutesStart) return [[], []];
  const startMs = timestampMs(stats.minutesStart);
  const t: number[] = [];
  const rate: number[] = [];
  stats.finishedPerMinute.forEach((finished, i) => {
    const minuteStartMs = startMs + i * MINUTE_MS;
    const lastedMs = Math.min(MINUTE_MS, Math.max(1_000, nowMs - minuteStartMs));
    t.push(minuteStartMs / 1000);
    rate.push(Number(finished) / (lastedMs / 1000));
  });
  return [t, rate];
}
