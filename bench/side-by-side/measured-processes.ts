import { cpuSeconds, rssMb, treeCpuSeconds } from "./proc-stat.js";

/** A process whose CPU and RSS a run reports: a single pid, or a pid with its descendants. */
export interface MeasuredProcess {
  /** Its name in the report, e.g. "manager", "worker processes". */
  readonly name: string;
  /** CPU seconds used so far. */
  cpuSeconds(): number;
  /** Resident set size now, MiB. */
  rssMb(): number;
}

/** One pid. */
export function measuredPid(name: string, pid: number): MeasuredProcess {
  return { name, cpuSeconds: () => cpuSeconds(pid), rssMb: () => rssMb(pid) };
}

/** The descendants of a pid (not the pid itself): a worker primary's cluster processes. */
export function measuredChildren(name: string, pid: number): MeasuredProcess {
  return {
    name,
    cpuSeconds: () => treeCpuSeconds(pid) - cpuSeconds(pid),
    rssMb: () => 0,
  };
}

/** This process (the submitter), from process.cpuUsage. */
export function measuredSelf(name: string): MeasuredProcess {
  return {
    name,
    cpuSeconds: () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1e6;
    },
    rssMb: () => process.memoryUsage.rss() / 2 ** 20,
  };
}

/** CPU seconds and peak RSS of processes over a run, sampling RSS every `intervalMs`. */
export class ResourceWatch {
  private readonly startCpu: number[];
  private readonly peakRss: number[];
  private readonly timer: NodeJS.Timeout;

  /** Starts watching now. */
  constructor(
    private readonly processes: readonly MeasuredProcess[],
    intervalMs = 100,
  ) {
    this.startCpu = processes.map((p) => p.cpuSeconds());
    this.peakRss = processes.map((p) => p.rssMb());
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private sample(): void {
    this.processes.forEach((p, k) => (this.peakRss[k] = Math.max(this.peakRss[k]!, p.rssMb())));
  }

  /** Stops and returns, per process, CPU seconds per 1,000 jobs and peak RSS (MiB). */
  stop(jobs: number): Record<string, { cpuSecondsPer1000: number; peakRssMb: number }> {
    clearInterval(this.timer);
    this.sample();
    const report: Record<string, { cpuSecondsPer1000: number; peakRssMb: number }> = {};
    this.processes.forEach((p, k) => {
      report[p.name] = {
        cpuSecondsPer1000: round3(((p.cpuSeconds() - this.startCpu[k]!) * 1000) / jobs),
        peakRssMb: Math.round(this.peakRss[k]!),
      };
    });
    return report;
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
