import { setTimeout as sleep } from "node:timers/promises";
import type { GridServers } from "../grid-fixture.js";
import { startLyingClient, type LyingClient } from "./lying-client.js";
import type { ChaosSize, SpinScenario } from "./spin-scenario.js";

/**
 * error-client: a client that reports every task as an error joins 300 ms before an honest worker
 * (2 processes); replication 1 and the default max_attempts. No unit may end FAILED: the liar's
 * errors must not use up the attempts of units the honest worker can compute.
 */
export function errorClient(size: ChaosSize): SpinScenario {
  let liar: LyingClient | undefined;
  return {
    scenario: "error-client",
    units: size === "full" ? 2_000 : 1_000,
    spinMs: 1,
    timeoutMs: size === "full" ? 180_000 : 90_000,
    limits: { stallS: 20 },
    countFailed: true,
    async startClients(grid: GridServers) {
      liar = startLyingClient(grid.distributor.url);
      await sleep(300);
      grid.addWorker(2);
    },
    async disturb() {
      return {
        recoveryMs: undefined,
        cleanUp: () => liar!.stop(),
        problems: () => (liar!.lies() === 0 ? ["the lying client got no task to lie about"] : []),
      };
    },
  };
}
