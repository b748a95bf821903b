import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { GridServers } from "./grid-fixture.js";
import { CLI, cliNodeFlags, treeCpuSeconds } from "./grid-processes.js";
import type { Rusage } from "./rusage-reporter.js";

const RUSAGE_REPORTER = join(dirname(fileURLToPath(import.meta.url)), "rusage-reporter.js");

/** What {@link runMeasuredCli} measured. */
export interface MeasuredCli {
  seconds: number;
  /** The CLI process's CPU time (user + system), start-up included. */
  cliCpuSeconds: number;
  cliPeakRssMb: number;
  /** The manager's CPU time while the command ran (on a shared machine, the figure wall time is not). */
  managerCpuSeconds: number;
}

/**
 * Runs `disio …args` against `grid` as users run it (the executable's Node flags, start-up
 * included) and measures its wall time, its CPU time and peak RSS (getrusage, via
 * rusage-reporter.ts preloaded) and the manager's CPU time meanwhile (/proc).
 */
export async function runMeasuredCli(grid: GridServers, args: string[], label: string): Promise<MeasuredCli> {
  const rusageFile = join(grid.dir, `rusage-${label}.json`);
  const managerPid = grid.manager.child.pid!;
  const managerBefore = treeCpuSeconds(managerPid);
  const started = performance.now();
  await promisify(execFile)(process.execPath, [...cliNodeFlags(), "--import", RUSAGE_REPORTER, CLI, ...args], {
    env: { ...process.env, DISIO_MANAGER_URL: grid.manager.url, DISIO_ADMIN_TOKEN: grid.adminToken, DISIO_RUSAGE_FILE: rusageFile },
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = (performance.now() - started) / 1000;
  const managerCpuSeconds = treeCpuSeconds(managerPid) - managerBefore;
  const rusage = JSON.parse(readFileSync(rusageFile, "utf8")) as Rusage;
  return {
    seconds: round(seconds),
    cliCpuSeconds: round(rusage.cpuSeconds),
    cliPeakRssMb: round(rusage.maxRssKiB / 1024, 1),
    managerCpuSeconds: round(managerCpuSeconds),
  };
}

function round(value: number, digits = 2): number {
  return Number(value.toFixed(digits));
}
