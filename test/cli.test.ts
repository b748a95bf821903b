import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI } from "../bench/grid-processes.js";
import { VERSION } from "../core/version.js";
import { startGrid, waitFor, type GridFixture } from "../bench/grid-fixture.js";
import { startVolunteer } from "../bench/volunteer-client.js";

const run = promisify(execFile);

/** Runs `disio …args` against the grid's manager; never throws, returns code and output. */
async function disio(grid: GridFixture | undefined, args: string[], token = grid?.adminToken) {
  const env = { ...process.env, DISIO_MANAGER_URL: grid?.manager.url ?? "http://127.0.0.1:1", DISIO_ADMIN_TOKEN: token ?? "" };
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env, cwd: grid?.dir });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("the disio CLI as a user runs it", () => {
  let grid: GridFixture;
  beforeAll(async () => {
    grid = await startGrid(1);
  }, 60_000);
  afterAll(() => grid?.close());

  it("prints its version and help", async () => {
    expect((await disio(undefined, ["--version"])).stdout.trim()).toBe(VERSION);
    const help = (await disio(undefined, ["--help"])).stdout;
    for (const command of ["demo", "manager", "distributor", "worker", "project", "units", "results", "distributors", "status"]) {
      expect(help).toContain(command);
    }
    expect((await disio(undefined, ["project", "create", "--help"])).stdout).toContain("--replication");
  });

  it("takes adaptive replication and a canary rate at create, shows them, and changes them at update", async () => {
    const program = join(grid.dir, "trusty.js");
    writeFileSync(program, "export default (x) => x;\n");
    const help = (await disio(undefined, ["project", "create", "--help"])).stdout;
    expect(help).toContain("--canary-rate <fraction>");
    expect(help).toContain("--adaptive-replication --canary-rate 0.05");
    const created = await disio(grid, ["project", "create", "--name", "trusty", "--program", program, "--replication", "2", "--quorum", "2", "--adaptive-replication", "--canary-rate", "0.05", "--paused", "--json"]);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ adaptiveReplication: true, canaryRate: 0.05 });
    const shown = (await disio(grid, ["project", "show", "trusty"])).stdout;
    expect(shown).toMatch(/^adaptive +on/m);
    expect(shown).toMatch(/^canary rate +0\.05 of leased copies/m);
    const updated = await disio(grid, ["project", "update", "trusty", "--no-adaptive-replication", "--canary-rate", "0", "--json"]);
    expect(updated.code, updated.stderr).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({ adaptiveReplication: false, canaryRate: 0 });
    // A flag left out keeps its value.
    const again = await disio(grid, ["project", "update", "trusty", "--adaptive-replication", "--json"]);
    expect(JSON.parse(again.stdout)).toMatchObject({ adaptiveReplication: true, canaryRate: 0 });
    const canaries = join(grid.dir, "canaries.ndjson");
    writeFileSync(canaries, '{"input": 3, "expected": 3}\n');
    const added = await disio(grid, ["units", "add", "--project", "trusty", "--file", canaries, "--canaries"]);
    expect(added.stdout).toContain("added 1 canaries to project trusty");
    expect(added.stdout).toContain("leases no canary yet (canary rate 0): disio project update trusty --canary-rate 0.05");
    expect((await disio(grid, ["units", "add", "--project", "trusty", "--file", canaries, "--canaries"])).stdout).toContain("these 1 canaries were already stored");
  });

  it("refuses a manager store that is not built with one line and exit 1, listing the supported ones", async () => {
    const data = join(grid.dir, "unbuilt-store");
    const mongo = await disio(undefined, ["manager", "--data", data, "--store", "mongodb://127.0.0.1:27017/disio"]);
    expect(mongo.code).toBe(1);
    expect(mongo.stderr.trim().split("\n")).toEqual([expect.stringMatching(/the MongoDB manager store is not built yet \(supported: sqlite\)$/)]);
    const unknown = await disio(undefined, ["manager", "--data", data, "--store", "postgres://db/disio"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim().split("\n")).toEqual([expect.stringMatching(/unsupported backend "postgres" \(supported: sqlite\)$/)]);
    expect(existsSync(data)).toBe(false);
  });

  it("creates a project, adds units from NDJSON, and writes every result to a file", async () => {
    const program = join(grid.dir, "double.js");
    writeFileSync(program, "export default async function work(input) { return { x: input.x, doubled: input.x * 2 }; }\n");
    const created = await disio(grid, ["project", "create", "--name", "double", "--program", program, "--replication", "2", "--quorum", "2", "--json"]);
    expect(created.code, created.stderr).toBe(0);
    const project = JSON.parse(created.stdout);
    expect(project.id).toMatch(/\S/);
    expect(project.replication).toBe(2);
    expect(project.quorum).toBe(2);

    const inputs = join(grid.dir, "inputs.ndjson");
    writeFileSync(inputs, Array.from({ length: 250 }, (_, x) => JSON.stringify({ x })).join("\n") + "\n");
    const added = await disio(grid, ["units", "add", "--project", project.id, "--file", inputs, "--json"]);
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toEqual({ project: project.id, added: 250, alreadyStored: 0 });

    await waitFor("the project done", async () => {
      const shown = JSON.parse((await disio(grid, ["project", "show", project.id, "--json"])).stdout);
      return shown.counts.done === "250";
    }, 60_000);

    const out = join(grid.dir, "results.ndjson");
    const results = await disio(grid, ["results", "--project", project.id, "--out", out]);
    expect(results.code, results.stderr).toBe(0);
    const rows = readFileSync(out, "utf8").trim().split("\n").map((line) => JSON.parse(line));
    expect(rows).toHaveLength(250);
    expect(new Set(rows.map((row) => row.unit)).size).toBe(250);
    for (const row of rows) expect(row.output).toEqual({ x: row.input.x, doubled: row.input.x * 2 });
    expect(rows.every((row) => row.copies >= 2)).toBe(true);

    const status = JSON.parse((await disio(grid, ["status", "--json"])).stdout);
    expect(status.stats.projects.some((p: { projectId: string }) => p.projectId === project.id)).toBe(true);
  }, 90_000);

  it("runs the demo: the whole grid in one command, a JSON summary, exit 0, its data folder removed", async () => {
    const demo = await disio(undefined, ["demo", "--units", "30", "--samples", "20000", "--workers", "1", "--json"]);
    expect(demo.code, demo.stderr).toBe(0);
    const summary = JSON.parse(demo.stdout);
    expect(summary).toMatchObject({ units: 30, unitsNotDone: 0 });
    expect(Math.abs(summary.pi - Math.PI)).toBeLessThan(0.05);
    expect(existsSync(summary.dataDir)).toBe(false);
  }, 60_000);

  it("lists client identities by trust (clients list --json) once distinct volunteers agreed", async () => {
    const program = join(grid.dir, "squares.js");
    writeFileSync(program, "export default (input) => ({ n: input.n, square: input.n * input.n });\n");
    const created = await disio(grid, ["project", "create", "--name", "squares", "--program", program, "--replication", "2", "--quorum", "2", "--json"]);
    expect(created.code, created.stderr).toBe(0);
    const project = JSON.parse(created.stdout);
    const inputs = join(grid.dir, "squares.ndjson");
    writeFileSync(inputs, Array.from({ length: 60 }, (_, n) => JSON.stringify({ n })).join("\n") + "\n");
    expect((await disio(grid, ["units", "add", "--project", project.id, "--file", inputs])).code).toBe(0);
    // Two more volunteers beside the grid's worker, so copies agree across distinct clients.
    const distributorUrl = `http://127.0.0.1:${grid.distributorPort}`;
    const volunteers = [startVolunteer(distributorUrl, { clientKey: "cli-a-0123456789abcdef", slots: 2 }), startVolunteer(distributorUrl, { clientKey: "cli-b-0123456789abcdef", slots: 2 })];
    try {
      await waitFor("the squares done", async () => JSON.parse((await disio(grid, ["project", "show", project.id, "--json"])).stdout).counts.done === "60", 60_000);
    } finally {
      await Promise.all(volunteers.map((v) => v.stop()));
    }
    const listed = await disio(grid, ["clients", "list", "--json"]);
    expect(listed.code, listed.stderr).toBe(0);
    const { clients } = JSON.parse(listed.stdout) as { clients: Array<{ clientKey: string; distributorId: string; trust?: string; validated?: string; wrong?: string; lastSeenTime: string }> };
    expect(clients.length).toBeGreaterThanOrEqual(2);
    for (const c of clients) {
      expect(c.clientKey).toMatch(/^k-[0-9a-f]{32}$/);
      expect(c.distributorId).toMatch(/\S/);
      expect(c.wrong ?? "0").toBe("0");
      expect(c.trust).toBe(c.validated);
      expect(Number.isNaN(Date.parse(c.lastSeenTime))).toBe(false);
    }
    const trust = clients.map((c) => Number(c.trust ?? 0));
    expect(trust).toEqual([...trust].sort((a, b) => b - a));
    // Every unit verified by two distinct volunteers: two validated verdicts per unit.
    expect(clients.reduce((sum, c) => sum + Number(c.validated ?? 0), 0)).toBe(120);
    const table = (await disio(grid, ["clients", "list"])).stdout;
    expect(table.split("\n")[0]).toMatch(/^CLIENT\s+DISTRIBUTOR\s+TRUST\s+VALIDATED\s+WRONG\s+LAST SEEN/);
    expect(table).toContain(clients[0]!.clientKey);
  }, 90_000);

  it("manages distributors: add prints a token once, list shows it, revoke revokes", async () => {
    const added = JSON.parse((await disio(grid, ["distributors", "add", "--name", "edge-2", "--json"])).stdout);
    expect(added.token.length).toBeGreaterThan(20);
    const list = JSON.parse((await disio(grid, ["distributors", "list", "--json"])).stdout);
    expect(list.distributors.map((d: { name: string }) => d.name)).toContain("edge-2");
    expect(JSON.stringify(list)).not.toContain(added.token);
    expect((await disio(grid, ["distributors", "revoke", added.id])).code).toBe(0);
    const after = JSON.parse((await disio(grid, ["distributors", "list", "--json"])).stdout);
    expect(after.distributors.find((d: { id: string }) => d.id === added.id).status).toBe("DISTRIBUTOR_STATUS_REVOKED");
  });

  it("a worker refuses a distributor whose manager key changed: a non-zero exit, one line naming both keys, nothing run", async () => {
    const state = join(grid.dir, "refusing-worker");
    mkdirSync(state);
    const oldKey = Buffer.alloc(32, 7).toString("base64");
    writeFileSync(join(state, "trusted-keys.json"), JSON.stringify({ version: 1, keys: [{ distributorUrl: grid.distributor.url, groupId: "", publicKey: oldKey }] }));
    const { publicKeyBase64 } = await grid.admin.getInfo({});
    const result = await disio(grid, ["worker", "--distributor", grid.distributor.url, "--workers", "1", "--state", state]);
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines.at(-1)).toBe(
      `error: refusing ${grid.distributor.url}: its manager key changed from ${oldKey} (trusted before) to ${publicKeyBase64}; nothing was run; ` +
        `if the grid's operator rotated its key (compare it with the key \`disio manager\` printed), run again with --trust ${publicKeyBase64}`,
    );
    expect(lines.filter((line) => line.includes("joined distributor") || line.includes("manager key trusted"))).toEqual([]);
    expect(JSON.parse(readFileSync(join(state, "trusted-keys.json"), "utf8")).keys.map((key: { publicKey: string }) => key.publicKey)).toEqual([oldKey]);
  });

  const failures: [string, string[], RegExp, string?][] = [
    ["an unknown project", ["project", "show", "no-such-project"], /^error: no project has the id or name "no-such-project"/],
    ["quorum above replication", ["project", "create", "--name", "bad", "--program", "PROGRAM", "--replication", "1", "--quorum", "3"], /^error: InvalidArgument: .*quorum/],
    ["a program file that does not exist", ["project", "create", "--name", "bad", "--program", "/nonexistent.js"], /^error: cannot read program/],
    ["a wrong admin token", ["project", "list"], /^error: Unauthenticated/, "wrong-token"],
    ["a malformed NDJSON line", ["units", "add", "--project", "p", "--file", "BAD_NDJSON"], /^error: .*:2: not JSON/],
    ["a canary rate above 1", ["project", "create", "--name", "bad", "--program", "PROGRAM", "--canary-rate", "1.5"], /^error: option '--canary-rate <fraction>' argument '1.5' is invalid/],
    ["a canary line without its expected output", ["units", "add", "--project", "PROJECT", "--file", "BAD_CANARIES", "--canaries"], /^error: .*bad-canaries\.ndjson:2: a canary line is \{"input": …, "expected": …\}/],
    ["a count of zero", ["worker", "--distributor", "http://127.0.0.1:1", "--workers", "0"], /^error: option '--workers <n>' argument '0' is invalid/],
    ["a missing required option", ["worker"], /^error: required option '--distributor <url>' not specified$/],
    ["a malformed duration", ["distributor", "--manager", "http://127.0.0.1:1", "--token", "t", "--client-heartbeat", "soon"], /^error: option '--client-heartbeat <duration>' argument 'soon' is invalid/],
    ["an output file that cannot be opened", ["results", "--project", "PROJECT", "--out", "/nonexistent-dir/results.ndjson"], /^error: ENOENT: .*nonexistent-dir/],
  ];
  for (const [what, args, message, token] of failures) {
    it(`fails with one line and a non-zero exit on ${what}`, async () => {
      const program = join(grid.dir, "ok.js");
      writeFileSync(program, "export default (x) => x;\n");
      const badNdjson = join(grid.dir, "bad.ndjson");
      writeFileSync(badNdjson, '{"x":1}\n{"x":\n');
      const badCanaries = join(grid.dir, "bad-canaries.ndjson");
      writeFileSync(badCanaries, '{"input": 1, "expected": 1}\n{"input": 2}\n');
      const name = `out-${what.replace(/\W+/g, "-")}`;
      const project = args.includes("PROJECT") ? JSON.parse((await disio(grid, ["project", "create", "--name", name, "--program", program, "--json"])).stdout).id : "";
      const placeholders: Record<string, string> = { PROGRAM: program, BAD_NDJSON: badNdjson, BAD_CANARIES: badCanaries, PROJECT: project };
      const result = await disio(grid, args.map((a) => placeholders[a] ?? a), token ?? grid.adminToken);
      expect(result.code).not.toBe(0);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr.trim()).toMatch(message);
    });
  }
});
