import { afterEach, describe, expect, it } from "vitest";
import { ProjectState } from "../gen/disio/v1/common_pb.js";
import { addNumberUnits, createProjectFrom, doneCount, resultsByUnit, startGrid, waitFor, type GridFixture } from "../bench/grid-fixture.js";

/** Squares its input after a little busy work, so a run lasts long enough to disturb it. */
const SQUARE = `
export default function work(input) {
  const until = performance.now() + ${"SPIN_MS"};
  let x = 0;
  while (performance.now() < until) x++;
  return { n: input.n, square: input.n * input.n };
}`;

function squareProgram(spinMs: number): string {
  return SQUARE.replace("SPIN_MS", String(spinMs));
}

/** Asserts every unit has exactly one result and it is the right one. */
async function expectAllSquares(grid: GridFixture, projectId: string, ids: string[]): Promise<void> {
  const results = await resultsByUnit(grid, projectId);
  expect(results.size).toBe(ids.length);
  const inputs = new Map(ids.map((id, n) => [id, n]));
  for (const [unit, output] of results) {
    const n = inputs.get(unit);
    expect(n, `result for unknown unit ${unit}`).not.toBeUndefined();
    expect(output).toEqual({ n, square: n! * n! });
  }
}

describe("the grid end to end (manager, distributor, worker processes)", () => {
  let grid: GridFixture | undefined;
  afterEach(async () => {
    await grid?.close();
    grid = undefined;
  });

  it("computes a few thousand units, each done exactly once", async () => {
    grid = await startGrid(2);
    const projectId = await createProjectFrom(grid, "squares", squareProgram(0));
    const ids = await addNumberUnits(grid, projectId, 3_000);
    await waitFor("all units done", async () => (await doneCount(grid!, projectId)) === 3_000, 60_000);
    await expectAllSquares(grid, projectId, ids);
    // SIGTERM is a clean stop for every part: worker first (as an operator would), then the servers.
    expect(await grid.worker.stop("SIGTERM")).toBe(0);
    expect(await grid.distributor.stop("SIGTERM")).toBe(0);
    expect(await grid.manager.stop("SIGTERM")).toBe(0);
  }, 90_000);

  it("finishes every unit exactly once through three distributor SIGKILLs and restarts, with replication 2", async () => {
    grid = await startGrid(2);
    // A long manager lease: a copy the restarts did not account for would leave its unit open past
    // the test, and a worker stalled on a full credit (the copies it held handed again to its rejoined
    // session) would stop the grid for good. (A lost acknowledged result would not: the restart hands
    // its copy back to be computed again; test/acked-results.test.ts checks those copy by copy.)
    const projectId = await createProjectFrom(grid, "squares-kill", squareProgram(1), { leaseTimeoutSeconds: 600, replication: 2, quorum: 2 });
    const ids = await addNumberUnits(grid, projectId, 3_000);
    for (const share of [0.2, 0.45, 0.7]) {
      await waitFor(`${share * 100}% of the units done`, async () => (await doneCount(grid!, projectId)) >= share * 3_000, 90_000);
      await grid.distributor.stop("SIGKILL");
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await grid.restartDistributor();
    }
    await waitFor("all units done after the restarts", async () => (await doneCount(grid!, projectId)) === 3_000, 120_000);
    await expectAllSquares(grid, projectId, ids);
  }, 300_000);

  it("computes units with large inputs: Leases, buffer and Work messages stay bounded in bytes", async () => {
    grid = await startGrid(2);
    const { project } = await grid.admin.createProject({
      name: "lengths",
      programSource: "export default (input) => ({ n: input.n, length: input.pad.length });",
      paused: true,
    });
    const projectId = project!.id;
    // 320 inputs of 256 KiB: 80 MiB in all, all ready when the project is resumed, so a Lease cut by
    // count alone would pass the distributor's 64 MiB read limit, and a Work message of its default
    // 1,000 tasks would be 80 MiB.
    const pad = "x".repeat(256 * 1024);
    const encoder = new TextEncoder();
    const ids: string[] = [];
    for (let start = 0; start < 320; start += 40) {
      const units = Array.from({ length: 40 }, (_, k) => ({ input: encoder.encode(JSON.stringify({ n: start + k, pad })) }));
      ids.push(...(await grid.admin.addUnits({ projectId, units })).unitIds);
    }
    await grid.admin.updateProject({ id: projectId, state: ProjectState.ACTIVE });
    await waitFor("all large units done", async () => (await doneCount(grid!, projectId)) === 320, 60_000);
    const results = await resultsByUnit(grid, projectId);
    expect([...results.values()].sort((a, b) => (a as { n: number }).n - (b as { n: number }).n)).toEqual(
      ids.map((_, n) => ({ n, length: pad.length })),
    );
  }, 90_000);

  it("keeps computing while the manager is down and delivers every result after its restart", async () => {
    grid = await startGrid(2);
    // 3,000 units of 5 ms on 2 workers: about 7.5 s of computing, so the outage falls mid-run.
    const projectId = await createProjectFrom(grid, "squares-outage", squareProgram(5), { leaseTimeoutSeconds: 600 });
    const ids = await addNumberUnits(grid, projectId, 3_000);
    await waitFor("some units done", async () => (await doneCount(grid!, projectId)) >= 300, 60_000);
    await grid.manager.stop("SIGTERM");
    const before = await distributorResultsReceived(grid);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const during = await distributorResultsReceived(grid);
    expect(during - before, "results computed while the manager was down").toBeGreaterThan(100);
    expect(await doneCount(grid, projectId).catch(() => -1), "the manager is really down").toBe(-1);
    await grid.restartManager();
    await waitFor("all units done after the manager came back", async () => (await doneCount(grid!, projectId)) === 3_000, 90_000);
    await expectAllSquares(grid, projectId, ids);
  }, 180_000);
});

/** The distributor's count of results received from clients, read from its /metrics. */
async function distributorResultsReceived(grid: GridFixture): Promise<number> {
  const text = await (await fetch(`${grid.distributor.url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith("disio_distributor_results_received_total"));
  if (!line) throw new Error("distributor /metrics has no disio_distributor_results_received_total");
  return Number(line.split(" ").at(-1));
}
