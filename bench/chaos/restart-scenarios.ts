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

/**
 * distributor-restart: replication 2, quorum 2, one worker of 2 processes; the distributor is
 * SIGKILLed and restarted 1 s later three times during the run.
 */
export function distributorRestart(size: ChaosSize): SpinScenario {
  const units = size === "full" ? 6_000 : 1_500;
  return {
    scenario: "distributor-restart",
    units,
    spinMs: 2,
    replication: 2,
    quorum: 2,
    timeoutMs: size === "full" ? 300_000 : 100_000,
    limits: { stallS: 20, recoveryS: 15 },
    async startClients(grid: GridServers) {
      grid.addWorker(2);
    },
    disturb: (grid, watch) =>
      killAndRestart(watch, units, [0.2, 0.45, 0.7], 1_000, { kill: () => grid.distributor.stop("SIGKILL"), restart: () => grid.restartDistributor() }),
  };
}

/** manager-restart: as distributor-restart, but the manager is SIGKILLed once, at 40 %, and restarted 3 s later. */
export function managerRestart(size: ChaosSize): SpinScenario {
  const units = size === "full" ? 6_000 : 1_500;
  return {
    scenario: "manager-restart",
    units,
    spinMs: 2,
    replication: 2,
    quorum: 2,
    timeoutMs: size === "full" ? 300_000 : 100_000,
    limits: { stallS: 30, recoveryS: 15 },
    async startClients(grid: GridServers) {
      grid.addWorker(2);
    },
    disturb: (grid, watch) => killAndRestart(watch, units, [0.4], 3_000, { kill: () => grid.manager.stop("SIGKILL"), restart: () => grid.restartManager() }),
  };
}
