import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGrid, type GridFixture } from "../bench/grid-fixture.js";
import { Grid, MapError, type JobResult } from "../sdk/index.js";

const run = promisify(execFile);

describe("the SDK against a live grid", () => {
  let grid: GridFixture;
  let sdk: Grid;
  beforeAll(async () => {
    grid = await startGrid(1);
    sdk = new Grid({ manager: grid.manager.url, token: grid.adminToken });
  }, 60_000);
  afterAll(() => grid?.close());

  it("map returns outputs in input order, and a MapError names the failed inputs", async () => {
    const outputs = await sdk.map([5, 1, 4, 2, 3], "export default async (x) => x * 100;");
    expect(outputs).toEqual([500, 100, 400, 200, 300]);
    const failure = await sdk.map([1, 2, 3], "export default async (x) => { if (x === 2) throw new Error('two is bad'); return x; };", { maxAttempts: 1 }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(MapError);
    expect((failure as MapError).outputs).toEqual([1, undefined, 3]);
    expect((failure as MapError).failures).toMatchObject([{ index: 1, error: expect.stringMatching(/two is bad/) }]);
  }, 60_000);

  it("streams inputs in from an async generator and every result out once, across a manager restart", async () => {
    const program = join(grid.dir, "triple.ts");
    writeFileSync(program, "export default async function work(input: { i: number }): Promise<number> { return input.i * 3; }\n");
    const job = await sdk.createProject({ name: "triple", program, paused: true });
    async function* inputs() {
      for (let i = 0; i < 3_000; i++) yield { i };
    }
    expect(await job.add(inputs(), { batchSize: 500 })).toEqual({ added: 3_000, alreadyStored: 0 });
    await job.resume();
    const seen: JobResult<{ i: number }, number>[] = [];
    let restarted = false;
    for await (const result of job.results<{ i: number }, number>()) {
      seen.push(result);
      if (!restarted && seen.length >= 500) {
        restarted = true;
        await grid.manager.stop("SIGKILL");
        await grid.restartManager();
      }
    }
    expect(restarted).toBe(true);
    expect(seen).toHaveLength(3_000);
    expect(new Set(seen.map((r) => r.unit)).size).toBe(3_000);
    expect(seen.every((r) => r.output === r.input.i * 3)).toBe(true);
    const done = await job.done();
    expect(done.counts!.done).toBe(3_000n);
  }, 120_000);

  it("creates a project with adaptive replication and canaries: the canaries judge the worker and show in no count or result", async () => {
    const job = await sdk.createProject({ name: "canaried", program: "export default async (x) => x + 1;", adaptiveReplication: true, canaryRate: 0.5, paused: true });
    expect([job.project.adaptiveReplication, job.project.canaryRate]).toEqual([true, 0.5]);
    const canaries = [100, 200, 300].map((n) => ({ input: n, expected: n + 1 }));
    expect(await job.addCanaries(canaries, { requestId: "canaries-1" })).toEqual({ added: 3, alreadyStored: false });
    expect(await job.addCanaries(canaries, { requestId: "canaries-1" })).toEqual({ added: 0, alreadyStored: true });
    await job.add(Array.from({ length: 100 }, (_, i) => i));
    await job.resume();
    const results = [];
    for await (const r of job.results<number, number>()) results.push(r);
    expect(results).toHaveLength(100);
    expect(results.every((r) => r.output === r.input + 1)).toBe(true);
    expect((await job.refresh()).counts!.total).toBe(100n);
    // Only canaries judged anyone here (replication 1): the worker's validated results are theirs.
    const { clients } = await sdk.admin.listClients({});
    expect(clients).toHaveLength(1);
    expect(clients[0]!.wrong).toBe(0n);
    expect(clients[0]!.validated).toBeGreaterThan(0n);
    const bytes = await sdk.createProject({ name: "canaried-bytes", program: "export default async (x) => x;", inputEncoding: "bytes", outputEncoding: "bytes" });
    await expect(bytes.addCanaries([{ input: new Uint8Array([1]), expected: "not bytes" }])).rejects.toThrow("canary expected output 0: a bytes project takes Uint8Arrays");
  }, 60_000);

  it("runs examples/sdk/squares.mjs, importing { Grid } from \"disio\"", async () => {
    const { stdout } = await run(process.execPath, [join(import.meta.dirname, "..", "examples", "sdk", "squares.mjs"), "40"], {
      env: { ...process.env, DISIO_MANAGER_URL: grid.manager.url, DISIO_ADMIN_TOKEN: grid.adminToken },
    });
    expect(JSON.parse(stdout)).toEqual({ n: 40, inOrder: true, results: 40, sum: 22_140, expected: 22_140, failed: 0 });
  }, 60_000);
});
