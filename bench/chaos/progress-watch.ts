import type { GridServers } from "../grid-fixture.js";
import { recoveryMs, type ProgressSample } from "./progress-timeline.js";
import { RssWatch, type GridRss } from "./rss-watch.js";

/** Units of a project by final state, as last read. */
export interface FinalCounts {
  done: number;
  failed: number;
  /** Done, failed, expired or cancelled: nothing more will happen to them. */
  final: number;
}

/**
 * Watches a chaos run: reads the project's counts with GetStats every `intervalMs` (a failed read,
 * e.g. while the manager is down, is skipped) into a timeline of done counts on a clock starting at
 * construction, and samples the RSS of the manager and distributor alike.
 */
export class ProgressWatch {
  /** Done counts read, oldest first. */
  readonly samples: ProgressSample[] = [];
  /** The last counts read. */
  counts: FinalCounts = { done: 0, failed: 0, final: 0 };
  private readonly started = performance.now();
  private readonly rss: RssWatch;
  private readonly timer: NodeJS.Timeout;
  private reading = false;

  constructor(
    private readonly grid: GridServers,
    private readonly projectId: string,
    private readonly intervalMs = 200,
  ) {
    this.rss = new RssWatch(grid, intervalMs);
    this.timer = setInterval(() => void this.tick(), intervalMs);
  }

  /** Milliseconds since the watch started. */
  nowMs(): number {
    return performance.now() - this.started;
  }

  /** Waits until the counts read satisfy `predicate`; false when `timeoutMs` passed first. */
  async until(predicate: (counts: FinalCounts) => boolean, timeoutMs: number): Promise<boolean> {
    const until = this.nowMs() + timeoutMs;
    while (!predicate(this.counts)) {
      if (this.nowMs() > until) return false;
      await new Promise((resolve) => setTimeout(resolve, this.intervalMs));
    }
    return true;
  }

  /**
   * Waits until the done count moves past its reading at `atMs` (see {@link recoveryMs}) and returns
   * how long after `atMs` that was, ms; undefined when it did not within `timeoutMs`.
   */
  async recoveredAfter(atMs: number, timeoutMs: number): Promise<number | undefined> {
    await this.until(() => recoveryMs(this.samples, atMs) !== undefined, timeoutMs);
    return recoveryMs(this.samples, atMs);
  }

  /** Stops watching and returns the RSS readings (the last sample taken now). */
  stop(): GridRss {
    clearInterval(this.timer);
    return this.rss.stop();
  }

  private async tick(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      const { projects } = await this.grid.admin.getStats({ projectId: this.projectId });
      const counts = projects[0]?.counts;
      if (counts === undefined) return;
      const final = counts.done + counts.failed + counts.expired + counts.cancelled;
      this.counts = { done: Number(counts.done), failed: Number(counts.failed), final: Number(final) };
      this.samples.push({ atMs: this.nowMs(), done: this.counts.done });
    } catch {
      // the manager is down: no reading
    } finally {
      this.reading = false;
    }
  }
}
