import { setTimeout as sleep } from "node:timers/promises";
import type { GridServers } from "../grid-fixture.js";
import type { ProgressWatch } from "./progress-watch.js";
import type { ChaosSize, Disturbed, SpinScenario } from "./spin-scenario.js";

/**
 * SIGKILLs a server when the done count reaches each fraction of `units`, restarts it after
 * `downMs`, and measures each recovery: from the restarted server answering /healthz until the done
 * count moves again. Returns the worst.
 */
async function killAndRestart(
  watch: ProgressWatch,
  units: number,
  fractions: number[],
  downMs: number,
  server: { kill(): Promise<unknown>; restart(): Promise<void> },
): Promise<Disturbed> {
  let worst = 0;
  for (const fraction of fractions) {
    if (!(await watch.until((counts) => counts.done >= units * fraction, 120_000))) return { recoveryMs: undefined };
    await server.kill();
    await sleep(downMs);
    await server.restart();
    const recovery = await watch.recoveredAfter(watch.nowMs(), 60_000);
    if (recovery === undefined) return { recoveryMs: undefined };
    worst = Math.max(worst, recovery);
  }
  return { recoveryMs: worst };
}

/** What one restart scenario kills, when, and for how long. */
interface RestartPlan {
  scenario: string;
  /** Which server is SIGKILLed. */
  server: "distributor" | "manager";
  /** Shares of the units done at which it is killed. */
  at: number[];
  /** How long it stays down, ms. */
  downMs: number;
  /** Longest stall the verdict allows, s. */
  stallS: number;
}

/** A restart scenario: replication 2, quorum 2, one worker of 2 processes, a server killed and restarted. */
function restartScenario(size: ChaosSize, plan: RestartPlan): SpinScenario {
  const units = size === "full" ? 6_000 : 1_500;
  return {
    scenario: plan.scenario,
    units,
    spinMs: 2,
    replication: 2,
    quorum: 2,
    timeoutMs: size === "full" ? 300_000 : 100_000,
    limits: { stallS: plan.stallS, recoveryS: 15 },
    async startClients(grid: GridServers) {
      grid.addWorker(2);
    },
    disturb: (grid, watch) =>
      killAndRestart(watch, units, plan.at, plan.downMs, {
        kill: () => grid[plan.server].stop("SIGKILL"),
        restart: () => (plan.server === "manager" ? grid.restartManager() : grid.restartDistributor()),
      }),
  };
}

/** distributor-restart: the distributor is SIGKILLed and restarted 1 s later three times during the run. */
export function distributorRestart(size: ChaosSize): SpinScenario {
  return restartScenario(size, { scenario: "distributor-restart", server: "distributor", at: [0.2, 0.45, 0.7], downMs: 1_000, stallS: 20 });
}

/** manager-restart: the manager is SIGKILLed once, at 40 %, and restarted 3 s later. */
export function managerRestart(size: ChaosSize): SpinScenario {
  return restartScenario(size, { scenario: "manager-restart", server: "manager", at: [0.4], downMs: 3_000, stallS: 30 });
}
