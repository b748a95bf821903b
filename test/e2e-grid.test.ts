import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ProjectState, UnitState } from "../gen/disio/v1/common_pb.js";
import {
  addNumberUnits,
  createProjectFrom,
  distributorMetric,
  doneCount,
  resultsByUnit,
  startGrid,
  startGridServers,
  waitFor,
  type GridServers,
} from "../bench/grid-fixture.js";
import { removeRedisKeys } from "../distributor/store/redis/remove-redis-keys.js";

const REDIS_URL = "redis://127.0.0.1:6379/0";

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
async function expectAllSquares(grid: GridServers, projectId: string, ids: string[]): Promise<void> {
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
  let grid: GridServers | undefined;
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
    expect(await grid.workers[0]!.stop("SIGTERM")).toBe(0);
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
    const before = await distributorMetric(grid, "disio_distributor_results_received_total");
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const during = await distributorMetric(grid, "disio_distributor_results_received_total");
    expect(during - before, "results computed while the manager was down").toBeGreaterThan(100);
    expect(await doneCount(grid, projectId).catch(() => -1), "the manager is really down").toBe(-1);
    await grid.restartManager();
    await waitFor("all units done after the manager came back", async () => (await doneCount(grid!, projectId)) === 3_000, 90_000);
    await expectAllSquares(grid, projectId, ids);
  }, 180_000);

  // Redis: its own key prefix, removed afterwards.
  const outageStores: Array<[string, string[]]> = [
    ["SQLite", []],
    ["Redis", ["--store", REDIS_URL, "--redis-prefix", `disio-test:${randomUUID()}:`]],
  ];
  it.each(outageStores)(
    "serves held units as extra copies while the manager is frozen, and the manager counts them when it thaws (%s)",
    async (_store, storeArgs) => {
      try {
        grid = await startGridServers({ distributorArgs: storeArgs });
        // Two volunteers (a state folder, so a client key, each): an extra copy goes to the one that
        // did not have the unit.
        for (const name of ["a", "b"]) grid.addWorker(1, ["--state", join(grid.dir, `volunteer-${name}`)]);
        const units = 200;
        const projectId = await createProjectFrom(grid, "squares-frozen", squareProgram(20), { leaseTimeoutSeconds: 600, replication: 1, quorum: 1 });
        const ids = await addNumberUnits(grid, projectId, units);
        await waitFor("some units done", async () => (await doneCount(grid!, projectId)) >= 10, 60_000);
        grid.manager.child.kill("SIGSTOP");
        const metric = (name: string) => distributorMetric(grid!, name);
        // The fresh copies run out, the distributor sees the manager gone (its heartbeat times out),
        // then clients get extra copies of the units whose results the manager has not acknowledged.
        await waitFor("extra copies served", async () => (await metric("disio_distributor_extra_copies_given_total")) >= 10, 90_000);
        expect(await metric("disio_distributor_queue_depth"), "no fresh copy left").toBe(0);
        const buffered = await metric("disio_distributor_results_buffered");
        await waitFor("results of extra copies buffered", async () => (await metric("disio_distributor_results_buffered")) >= buffered + 5, 60_000);
        expect(await metric("disio_distributor_results_received_total")).toBeGreaterThan(units);

        grid.manager.child.kill("SIGCONT");
        await waitFor("all units done after the manager thawed", async () => (await doneCount(grid!, projectId)) === units, 90_000);
        await waitFor("the backlog flushed", async () => (await metric("disio_distributor_results_buffered")) === 0, 60_000);
        // Read after the thaw: extras go out until the manager's first answer arrives.
        const extras = await metric("disio_distributor_extra_copies_given_total");
        await expectAllSquares(grid, projectId, ids);
        const { projects } = await grid.admin.getStats({ projectId });
        expect(projects[0]?.counts?.failed).toBe(0n);
        // Replication 1: every copy beyond one a unit is an extra copy the manager adopted.
        let copiesSent = 0;
        let pageToken = "";
        do {
          const page = await grid.admin.listUnits({ projectId, state: UnitState.DONE, pageSize: 1_000, pageToken });
          for (const unit of page.units) copiesSent += unit.copiesSent;
          pageToken = page.nextPageToken;
        } while (pageToken !== "");
        expect(copiesSent - units, "extra copies counted by the manager").toBeGreaterThanOrEqual(5);
        expect(copiesSent - units).toBeLessThanOrEqual(extras);
      } finally {
        grid?.manager.child.kill("SIGCONT");
        await grid?.close();
        grid = undefined;
        const prefix = storeArgs.at(-1);
        if (prefix?.startsWith("disio-test:") === true) await removeRedisKeys(REDIS_URL, prefix);
      }
    },
    240_000,
  );
});
