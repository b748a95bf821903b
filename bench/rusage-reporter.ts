import { writeFileSync } from "node:fs";

/** What {@link file} receives: the process's peak resident set size and CPU time, from getrusage. */
export interface Rusage {
  maxRssKiB: number;
  cpuSeconds: number;
}

/**
 * Preloaded with `node --import` into a process a benchmark measures: on exit, writes its
 * {@link Rusage} as JSON to `$DISIO_RUSAGE_FILE`.
 */
const file = process.env.DISIO_RUSAGE_FILE;
if (file) {
  process.on("exit", () => {
    const usage = process.resourceUsage();
    const rusage: Rusage = { maxRssKiB: usage.maxRSS, cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6 };
    writeFileSync(file, JSON.stringify(rusage));
  });
}
