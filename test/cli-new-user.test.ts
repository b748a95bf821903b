import { execFile, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, freePort, spawnDisio } from "../bench/grid-processes.js";
import { startGrid, waitFor, type GridFixture } from "../bench/grid-fixture.js";

const run = promisify(execFile);

/** Runs `disio …args` against the grid's manager; never throws, returns code and output. */
async function disio(grid: GridFixture, args: string[], env: NodeJS.ProcessEnv = {}) {
  const vars = { ...process.env, DISIO_MANAGER_URL: grid.manager.url, DISIO_ADMIN_TOKEN: grid.adminToken, ...env };
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: vars, cwd: grid.dir });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const json = (text: string) => JSON.parse(text);
const lines = (text: string) => text.trim().split("\n").filter(Boolean).map(json);

describe("what a new user tripped over, from the CLI", () => {
  let grid: GridFixture;
  beforeAll(async () => {
    grid = await startGrid(1);
  }, 60_000);
  afterAll(() => grid?.close());

  it("bundles a TypeScript program with its modules, and makes failed units visible: state, list, show, results", async () => {
    const src = join(grid.dir, "odd-src");
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, "check.ts"), "export function checkEven(x: number): void { if (x % 2 === 1) throw new Error(`odd input ${x}`); }\n");
    writeFileSync(join(src, "work.ts"), 'import { checkEven } from "./check.ts";\nexport default async function work(input: { x: number }): Promise<number> { checkEven(input.x); return input.x * 10; }\n');
    const created = await disio(grid, ["project", "create", "--name", "evens", "--program", join(src, "work.ts"), "--max-attempts", "1", "--json"]);
    expect(created.code, created.stderr).toBe(0);
    const inputs = join(grid.dir, "six.ndjson");
    writeFileSync(inputs, [0, 1, 2, 3, 4, 5].map((x) => JSON.stringify({ x })).join("\n") + "\n");
    // By name, not id: names are unique.
    expect((await disio(grid, ["units", "add", "--project", "evens", "--file", inputs])).code).toBe(0);
    await waitFor("evens final", async () => json((await disio(grid, ["project", "show", "evens", "--json"])).stdout).state === "PROJECT_STATE_DONE", 60_000);

    expect((await disio(grid, ["project", "show", "evens"])).stdout).toMatch(/state\s+done, 3 failed of 6/);
    const failed = lines((await disio(grid, ["units", "list", "--project", "evens", "--state", "failed", "--json"])).stdout);
    expect(failed.map((u) => u.input.x).sort()).toEqual([1, 3, 5]);
    expect(failed.every((u) => /odd input \d/.test(u.error))).toBe(true);

    const shown = await disio(grid, ["unit", "show", failed[0].id]);
    expect(shown.stdout).toMatch(/state\s+failed: .*odd input/);
    expect(shown.stdout).toMatch(/COPY\s+DISTRIBUTOR\s+CLIENT\s+SENT\s+RECEIVED\s+OUTCOME\s+ERROR/);
    expect(shown.stdout).toMatch(/ error .*odd input/);

    const results = await disio(grid, ["results", "--project", "evens"]);
    expect(results.code).toBe(1);
    expect(lines(results.stdout).map((r) => r.output).sort()).toEqual([0, 20, 40]);
    expect(results.stderr).toMatch(/3 units of project evens failed/);
    const failures = lines((await disio(grid, ["results", "--project", "evens", "--failed"])).stdout);
    expect(failures.map((f) => f.input.x).sort()).toEqual([1, 3, 5]);
    expect(failures[0].error).toMatch(/odd input/);

    const requeued = await disio(grid, ["units", "requeue", "--project", "evens", "--json"]);
    expect(json(requeued.stdout)).toMatchObject({ requeued: 3 });
  }, 90_000);

  it("stops quietly when its reader closes the pipe (disio … | head)", async () => {
    const child = spawn(process.execPath, [CLI, "units", "list", "--project", "evens"], {
      cwd: grid.dir,
      env: { ...process.env, DISIO_MANAGER_URL: grid.manager.url, DISIO_ADMIN_TOKEN: grid.adminToken },
      stdio: ["ignore", "pipe", "pipe"],
    });
    // Close the reading end before the command has written anything: its first write gets EPIPE.
    child.stdout.destroy();
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(stderr).toBe("");
    expect(code).toBe(0);
  }, 30_000);

  it("refuses a broken program at create time, naming the problem", async () => {
    const cjs = join(grid.dir, "cjs.js");
    writeFileSync(cjs, "module.exports = function work(x) { return x; };\n");
    const refused = await disio(grid, ["project", "create", "--name", "cjs", "--program", cjs]);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toMatch(/^error: InvalidArgument: program_source: the program is a CommonJS module/);
  });

  it("adds nothing from a file with a bad line anywhere, naming the line; refuses a JSON array file unless --array", async () => {
    const project = json((await disio(grid, ["project", "create", "--name", "all-or-nothing", "--program", join(import.meta.dirname, "..", "examples", "trivial", "work.js"), "--paused", "--json"])).stdout);
    const file = join(grid.dir, "bad-late.ndjson");
    writeFileSync(file, Array.from({ length: 25 }, (_, i) => (i === 19 ? "{oops" : JSON.stringify({ i }))).join("\n") + "\n");
    const bad = await disio(grid, ["units", "add", "--project", project.id, "--file", file, "--batch-size", "10"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toMatch(/^error: .*bad-late\.ndjson:20: not JSON .*nothing was added$/);
    const array = join(grid.dir, "array.json");
    writeFileSync(array, "[1, 2, 3]\n");
    const refused = await disio(grid, ["units", "add", "--project", project.id, "--file", array]);
    expect(refused.stderr.trim()).toMatch(/holds one JSON array, not NDJSON .*--array/);
    expect(json((await disio(grid, ["project", "show", project.id, "--json"])).stdout).counts.total).toBe("0");
    const expanded = await disio(grid, ["units", "add", "--project", project.id, "--file", array, "--array", "--json"]);
    expect(json(expanded.stdout)).toMatchObject({ added: 3 });
  });

  it("says in words what is wrong with a manager URL", async () => {
    const noScheme = await disio(grid, ["project", "list"], { DISIO_MANAGER_URL: `127.0.0.1:${grid.managerPort}` });
    expect(noScheme.stderr.trim()).toBe(`error: manager URL "127.0.0.1:${grid.managerPort}" has no scheme: write it as http://127.0.0.1:${grid.managerPort} (or https:// behind TLS)`);
    const tls = await disio(grid, ["project", "list"], { DISIO_MANAGER_URL: `https://127.0.0.1:${grid.managerPort}` });
    expect(tls.stderr.trim()).toMatch(/^error: Unavailable: https:\/\/127\.0\.0\.1:\d+ does not speak TLS: .*use http:\/\//);
    const refused = await disio(grid, ["project", "list"], { DISIO_MANAGER_URL: `http://127.0.0.1:${await freePort()}` });
    expect(refused.stderr.trim()).toMatch(/^error: Unavailable: nothing listens at http:\/\/127\.0\.0\.1:\d+ \(connection refused\)/);
  });

  it("a distributor with a refused token logs why and exits non-zero; one with no manager warns with the reason", async () => {
    const wrong = spawnDisio("distributor-wrong-token", ["distributor", "--port", String(await freePort()), "--data", join(grid.dir, "d-wrong"), "--manager", grid.manager.url, "--token", "not-a-token"], grid.dir);
    expect(await wrong.exited).toBe(1);
    const log = readFileSync(join(grid.dir, "distributor-wrong-token.log"), "utf8");
    expect(log).toMatch(/"level":50.*manager refused this distributor's token/);
    expect(log).toMatch(/error: the manager refused this distributor's token \(Unauthenticated/);

    const nowhere = spawnDisio("distributor-nowhere", ["distributor", "--port", String(await freePort()), "--data", join(grid.dir, "d-nowhere"), "--manager", `http://127.0.0.1:${await freePort()}`, "--token", "t"], grid.dir);
    try {
      await waitFor("the unreachable warning", async () => /"level":40.*ECONNREFUSED|"level":40.*manager unreachable/.test(readFileSync(join(grid.dir, "distributor-nowhere.log"), "utf8")), 30_000);
    } finally {
      await nowhere.stop("SIGKILL");
    }
  }, 60_000);

  it("status separates units done, units being computed and copies held at distributors", async () => {
    const status = await disio(grid, ["status"]);
    expect(status.stdout).toMatch(/PROJECT\s+NAME\s+STATE\s+DONE\s+COMPUTING\s+QUEUED\s+HELD\s+FAILED\s+UNITS\/S\s+ETA/);
    expect(status.stdout).toMatch(/DISTRIBUTOR\s+NAME\s+STATUS\s+REGION\s+CLIENTS\s+HELD\s+LAST SEEN/);
    const stats = json((await disio(grid, ["status", "--json"])).stdout).stats;
    expect(stats.projects[0]).toHaveProperty("unitsComputing");
    expect(stats.projects[0]).toHaveProperty("copiesHeld");
  });
});
