import { startGridServers, type GridServers } from "../grid-fixture.js";
import { longestStallMs } from "./progress-timeline.js";
import { ProgressWatch } from "./progress-watch.js";
import { auditResults, createSpinWorkload } from "./spin-workload.js";
import { failedChecks, type Check, type Verdict } from "./verdict.js";

/** How big a chaos run is: the full one, or the short one CI runs. */
export type ChaosSize = "full" | "short";

/** What a disturbance reports once the grid got over it. */
export interface Disturbed {
  /** The worst recovery time it measured, ms (undefined: it never recovered). */
  recoveryMs: number | undefined;
  /** Undoes what is left of it once the run ended (e.g. continues and stops a frozen worker). */
  cleanUp?: () => Promise<void>;
  /** After the clean-up: what went wrong with the disturbance itself (e.g. a lying client that got no task). */
  problems?: () => string[];
}

/** A chaos scenario over a {@link SpinWorkload}: how to set it up, disturb it, and judge it. */
export interface SpinScenario {
  scenario: string;
  units: number;
  /** Busy time of each unit, ms. */
  spinMs: number;
  replication?: number;
  quorum?: number;
  /** Extra `disio distributor` flags. */
  distributorArgs?: string[];
  /** Starts the clients once the units are in. */
  startClients(grid: GridServers): Promise<void>;
  /** Disturbs the running grid, waiting on `watch` for the moments to do it. */
  disturb(grid: GridServers, watch: ProgressWatch): Promise<Disturbed>;
  /** Longest the run may take before the units not final count as lost, ms. */
  timeoutMs: number;
  /** Bounds that pass: longest stall and recovery (when the scenario measures one), s. */
  limits: { stallS: number; recoveryS?: number };
  /** Also report (and require 0 of) FAILED units. */
  countFailed?: boolean;
}

/**
 * Runs a scenario on a fresh grid of real processes: adds the units, starts the clients, disturbs the
 * run, waits until every unit is final (or the time is up), audits the manager's results and judges
 * them. Never throws: a scenario that breaks is a failing verdict naming the error.
 */
export async function runSpinScenario(scenario: SpinScenario): Promise<Verdict> {
  const started = performance.now();
  const grid = await startGridServers({ prefix: `disio-chaos-${scenario.scenario}-`, distributorArgs: scenario.distributorArgs });
  let watch: ProgressWatch | undefined;
  let cleanUp: (() => Promise<void>) | undefined;
  try {
    const { units, spinMs, replication, quorum } = scenario;
    const workload = await createSpinWorkload(grid, { name: scenario.scenario, units, spinMs, replication, quorum });
    watch = new ProgressWatch(grid, workload.projectId);
    await scenario.startClients(grid);
    const disturbed = await scenario.disturb(grid, watch);
    cleanUp = disturbed.cleanUp;
    await watch.until((counts) => counts.final >= scenario.units, scenario.timeoutMs);
    cleanUp = undefined;
    await disturbed.cleanUp?.();
    const rssMb = watch.stop();
    const audit = await auditResults(grid, workload);
    const failed = scenario.countFailed ? watch.counts.failed : undefined;
    const longestStallS = longestStallMs(watch.samples) / 1000;
    const recoveryS = disturbed.recoveryMs === undefined ? undefined : disturbed.recoveryMs / 1000;
    const checks: Check[] = [
      ["lost", audit.lost, 0],
      ["duplicates", audit.duplicates, 0],
      ["longest stall s", longestStallS, scenario.limits.stallS],
    ];
    if (scenario.limits.recoveryS !== undefined) checks.push(["recovery s", recoveryS, scenario.limits.recoveryS]);
    if (failed !== undefined) checks.push(["failed", failed, 0]);
    const problems = [...failedChecks(checks), ...(disturbed.problems?.() ?? [])];
    const seconds = (performance.now() - started) / 1000;
    return { scenario: scenario.scenario, units: scenario.units, lost: audit.lost, duplicates: audit.duplicates, failed, longestStallS, recoveryS, rssMb, seconds, problems, pass: problems.length === 0 };
  } catch (error) {
    const rssMb = watch?.stop() ?? { manager: { beforeMb: 0, afterMb: 0, peakMb: 0 }, distributor: { beforeMb: 0, afterMb: 0, peakMb: 0 } };
    const problems = [`broke: ${(error as Error).message}`];
    return { scenario: scenario.scenario, units: scenario.units, rssMb, seconds: (performance.now() - started) / 1000, problems, pass: false };
  } finally {
    await cleanUp?.().catch(() => undefined);
    await grid.close();
  }
}
