import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI } from "../bench/grid-processes.js";
import { startGridServers, waitFor, type GridServers } from "../bench/grid-fixture.js";

const run = promisify(execFile);

/** `disio … --json` against the grid's manager, parsed. */
async function disioJson(grid: GridServers, args: string[]): Promise<any> {
  const env = { ...process.env, DISIO_MANAGER_URL: grid.manager.url, DISIO_ADMIN_TOKEN: grid.adminToken };
  const { stdout } = await run(process.execPath, [CLI, ...args, "--json"], { env });
  return JSON.parse(stdout);
}

/** Clients as `distributors list` and `status` show them. */
async function clientCounts(grid: GridServers): Promise<{ listed: number; status: number }> {
  const [list, status] = await Promise.all([disioJson(grid, ["distributors", "list"]), disioJson(grid, ["status"])]);
  return { listed: list.distributors[0].clients, status: status.stats.connectedClients ?? 0 };
}

describe("client counts age out when a worker stops", () => {
  let grid: GridServers;
  beforeAll(async () => {
    grid = await startGridServers({ distributorArgs: ["--client-heartbeat", "1s"] });
  }, 60_000);
  afterAll(() => grid?.close());

  it("a frozen idle worker (its connection still open) stops counting after three heartbeats, and counts again once it wakes", async () => {
    const worker = grid.addWorker(1);
    await waitFor("the worker counted", async () => (await clientCounts(grid)).listed === 1, 60_000);
    expect(await clientCounts(grid)).toEqual({ listed: 1, status: 1 });

    // SIGSTOP keeps the TCP connection open: the kernel still acknowledges, the worker says nothing.
    worker.signalTree("SIGSTOP");
    await waitFor("the frozen worker no longer counted", async () => (await clientCounts(grid)).listed === 0, 60_000);
    expect(await clientCounts(grid)).toEqual({ listed: 0, status: 0 });

    worker.signalTree("SIGCONT");
    await waitFor("the woken worker counted again", async () => (await clientCounts(grid)).listed === 1, 60_000);

    await worker.stop("SIGKILL");
    await waitFor("the killed worker no longer counted", async () => (await clientCounts(grid)).listed === 0, 60_000);
    expect(await clientCounts(grid)).toEqual({ listed: 0, status: 0 });
  }, 240_000);
});
