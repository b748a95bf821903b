import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { GridServers } from "../grid-fixture.js";
import type { ChaosSize, SpinScenario } from "./spin-scenario.js";

/** What the distributor logs when it takes a silent client for dead and requeues its tasks. */
const SILENT_CLIENT_LOG = "client silent, its stream ended";

/** The client heartbeat the distributor runs with here: a frozen client is taken for dead after 3 of them. */
const HEARTBEAT = "1s";

/**
 * Waits for a line of the distributor's JSON log with message `msg` logged at or after `sinceMs`
 * (epoch ms) and returns its time; undefined after `timeoutMs`.
 */
async function loggedAt(logFile: string, msg: string, sinceMs: number, timeoutMs: number): Promise<number | undefined> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    for (const line of readFileSync(logFile, "utf8").split("\n")) {
      if (!line.includes(msg)) continue;
      const { time } = JSON.parse(line) as { time: number };
      if (time >= sinceMs) return time;
    }
    await sleep(100);
  }
  return undefined;
}

/**
 * frozen-worker: two workers of one process each, a 1 s client heartbeat; one worker is frozen
 * (SIGSTOP, its sockets left open) at 30 % done and stays frozen. The grid must finish every unit;
 * recovery is the time from the freeze until the distributor took the frozen client's tasks back
 * and requeued them (far below the 120 s client lease). It is continued and stopped at the end.
 */
export function frozenWorker(size: ChaosSize): SpinScenario {
  const units = size === "full" ? 4_000 : 1_200;
  return {
    scenario: "frozen-worker",
    units,
    spinMs: 3,
    distributorArgs: ["--client-heartbeat", HEARTBEAT],
    timeoutMs: size === "full" ? 180_000 : 90_000,
    limits: { stallS: 20, recoveryS: 10 },
    async startClients(grid: GridServers) {
      grid.addWorker(1);
      grid.addWorker(1);
    },
    async disturb(grid, watch) {
      const frozen = grid.workers[0]!;
      if (!(await watch.until((counts) => counts.done >= units * 0.3, 120_000))) return { recoveryMs: undefined };
      const frozenAt = Date.now();
      frozen.signalTree("SIGSTOP");
      const requeuedAt = await loggedAt(join(grid.dir, "distributor.log"), SILENT_CLIENT_LOG, frozenAt, 60_000);
      return {
        recoveryMs: requeuedAt === undefined ? undefined : requeuedAt - frozenAt,
        async cleanUp() {
          frozen.signalTree("SIGCONT");
          await frozen.stop("SIGTERM");
        },
      };
    },
  };
}
