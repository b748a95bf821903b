import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { GetStatsResponse } from "../gen/disio/v1/admin_service_pb.js";

/** How much history the throughput chart keeps: the last hour. */
const KEEP_MS = 60 * 60 * 1000;

/**
 * Units per second per project over the last hour, sampled from every WatchStats update the
 * panel receives (the manager keeps no history: the chart starts when the panel opens).
 */
export class ThroughputHistory {
  readonly #samples = new Map<string, { t: number[]; rate: number[] }>();

  /** Records one update. */
  add(stats: GetStatsResponse): void {
    const at = stats.time ? timestampDate(stats.time).getTime() / 1000 : Date.now() / 1000;
    for (const p of stats.projects) {
      const series = this.#samples.get(p.projectId) ?? { t: [], rate: [] };
      series.t.push(at);
      series.rate.push(p.unitsPerSecond);
      while (series.t.length > 0 && series.t[0]! < at - KEEP_MS / 1000) {
        series.t.shift();
        series.rate.shift();
      }
      this.#samples.set(p.projectId, series);
    }
  }

  /** The project's samples: times (s) and units/s. */
  of(projectId: string): { t: number[]; rate: number[] } {
    return this.#samples.get(projectId) ?? { t: [], rate: [] };
  }
}
