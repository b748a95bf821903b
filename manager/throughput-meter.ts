import { lastGrowthMs, THROUGHPUT_WINDOW_MS, throughputPerSecond, type CountSample } from "../core/throughput.js";

/**
 * Keeps, per project, samples of its finished-unit count taken by the manager's background loop,
 * so GetStats answers "units per second over the last minute" from memory, without scanning the
 * store. Samples older than the window (plus one) are dropped.
 */
export class ThroughputMeter {
  private readonly samples = new Map<string, CountSample[]>();

  /** Records each project's finished count at `nowMs`; forgets projects not listed. */
  sample(finishedByProject: ReadonlyMap<string, number>, nowMs: number): void {
    for (const id of this.samples.keys()) if (!finishedByProject.has(id)) this.samples.delete(id);
    for (const [id, count] of finishedByProject) {
      const list = this.samples.get(id) ?? [];
      list.push({ atMs: nowMs, count });
      while (list.length > 2 && list[1]!.atMs < nowMs - THROUGHPUT_WINDOW_MS) list.shift();
      this.samples.set(id, list);
    }
  }

  /** When a unit of the project last finished, as far as the samples kept show; undefined if none did. */
  lastFinishMs(projectId: string): number | undefined {
    return lastGrowthMs(this.samples.get(projectId) ?? []);
  }

  /** Units finished per second over the last minute for a project (0 when unknown). */
  rate(projectId: string, nowMs: number): number {
    return throughputPerSecond(this.samples.get(projectId) ?? [], nowMs);
  }
}
