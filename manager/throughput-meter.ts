import { lastGrowthMs, THROUGHPUT_WINDOW_MS, throughputPerSecond, type CountSample } from "../core/throughput.js";
import { MinuteCounts, type MinuteSeries } from "./minute-counts.js";

/**
 * Keeps, per project, samples of its finished-unit count taken by the manager's background loop,
 * so GetStats answers "units per second over the last minute" from memory, without scanning the
 * store. Samples older than the window (plus one) are dropped. The growth between samples also
 * goes into per-minute counts of the last hour (a fixed ring per project), the throughput history
 * a panel opened later still shows.
 */
export class ThroughputMeter {
  private readonly samples = new Map<string, CountSample[]>();
  private readonly minutes = new Map<string, MinuteCounts>();

  /** Records each project's finished count at `nowMs`; forgets projects not listed. */
  sample(finishedByProject: ReadonlyMap<string, number>, nowMs: number): void {
    for (const id of this.samples.keys()) if (!finishedByProject.has(id)) this.samples.delete(id);
    for (const id of this.minutes.keys()) if (!finishedByProject.has(id)) this.minutes.delete(id);
    for (const [id, count] of finishedByProject) {
      const list = this.samples.get(id) ?? [];
      const previous = list.at(-1);
      // Requeued units make the count drop: only growth counts as finished.
      if (previous !== undefined && count > previous.count) this.minutesOf(id).add(nowMs, count - previous.count);
      list.push({ atMs: nowMs, count });
      while (list.length > 2 && list[1]!.atMs < nowMs - THROUGHPUT_WINDOW_MS) list.shift();
      this.samples.set(id, list);
    }
  }

  /** When a unit of the project last finished, as far as the samples kept show; undefined if none did. */
  lastFinishMs(projectId: string): number | undefined {
    return lastGrowthMs(this.samples.get(projectId) ?? []);
  }

  /** Units of the project finished per minute over the last hour, up to the minute holding `nowMs`. */
  history(projectId: string, nowMs: number): MinuteSeries {
    return (this.minutes.get(projectId) ?? new MinuteCounts()).series(nowMs);
  }

  private minutesOf(projectId: string): MinuteCounts {
    let counts = this.minutes.get(projectId);
    if (counts === undefined) {
      counts = new MinuteCounts();
      this.minutes.set(projectId, counts);
    }
    return counts;
  }

  /** Units finished per second over the last minute for a project (0 when unknown). */
  rate(projectId: string, nowMs: number): number {
    return throughputPerSecond(this.samples.get(projectId) ?? [], nowMs);
  }
}
