import type { GridServers } from "../grid-fixture.js";

/** Resident memory of a server, MiB: when watching started, at the last sample, and the most seen. */
export interface RssReading {
  beforeMb: number;
  afterMb: number;
  peakMb: number;
}

/** RSS readings of a grid's manager and distributor. */
export type GridRss = Record<"manager" | "distributor", RssReading>;

/**
 * Samples the RSS of a grid's manager and distributor (whichever processes they are now, across
 * restarts) every `intervalMs` until stopped. A server that is down is not sampled.
 */
export class RssWatch {
  private readonly rss: GridRss;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly grid: GridServers,
    intervalMs: number,
  ) {
    const reading = (mb: number): RssReading => ({ beforeMb: mb, afterMb: mb, peakMb: mb });
    this.rss = { manager: reading(grid.manager.rssMb()), distributor: reading(grid.distributor.rssMb()) };
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  /** Takes a sample now. */
  sample(): void {
    for (const name of ["manager", "distributor"] as const) {
      const mb = this.grid[name].rssMb();
      if (mb === 0) continue;
      this.rss[name].afterMb = mb;
      this.rss[name].peakMb = Math.max(this.rss[name].peakMb, mb);
    }
  }

  /** Stops sampling and returns the readings, the last sample taken now. */
  stop(): GridRss {
    clearInterval(this.timer);
    this.sample();
    return this.rss;
  }
}
