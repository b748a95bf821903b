import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGrid, type GridFixture } from "../bench/grid-fixture.js";

const run = promisify(execFile);
const PYTHON = "/usr/bin/python3";
const root = resolve(import.meta.dirname, "..");
const example = join(root, "examples", "python");
const UNITS = 120;

describe("examples/python: a Python backend on grpcio and a buf-built descriptor set", () => {
  let grid: GridFixture;
  let descriptors: string;
  beforeAll(async () => {
    const missing = await run(PYTHON, ["-c", "import grpc, google.protobuf"]).then(
      () => "",
      (error: { stderr: string }) => error.stderr.trim(),
    );
    if (missing) throw new Error(`this test needs Debian's python3-grpcio and python3-protobuf (.ci/run installs them): ${missing}`);
    grid = await startGrid(2, { prefix: "disio-python-" });
    // No generated Python is checked in: the messages come from the descriptor set of proto/.
    descriptors = join(grid.dir, "disio.binpb");
    await run(join(root, "node_modules", ".bin", "buf"), ["build", "-o", descriptors], { cwd: root });
  }, 120_000);
  afterAll(() => grid?.close());

  it("creates a project, adds units and reads WatchResults to the end: every unit once, with its output", async () => {
    expect(existsSync(descriptors)).toBe(true);
    const args = ["--manager", `127.0.0.1:${grid.managerPort}`, "--token", grid.adminToken, "--descriptors", descriptors];
    const { stdout, stderr } = await run(PYTHON, [join(example, "backend.py"), ...args, "--name", "py-squares", "--program", join(example, "work.js"), "--units", String(UNITS), "--batch", "50"], {
      timeout: 180_000,
    });
    expect(stderr).toBe("");
    const lines = stdout.trim().split("\n").map((line) => JSON.parse(line));
    const summary = lines.pop();
    const { projects } = await grid.admin.listProjects({});
    expect(summary).toEqual({ project: projects.find((p) => p.name === "py-squares")!.id, results: UNITS, done: true });
    expect(new Set(lines.map((r) => r.unit)).size).toBe(UNITS);
    expect(lines.map((r) => r.input.n).sort((a, b) => a - b)).toEqual(Array.from({ length: UNITS }, (_, n) => n));
    expect(lines.every((r) => r.output.n === r.input.n && r.output.square === r.input.n ** 2)).toBe(true);
    // Finishing order: cursors grow.
    expect(lines.map((r) => Number(r.cursor))).toEqual(lines.map((r) => Number(r.cursor)).sort((a, b) => a - b));
  }, 200_000);

  it("reports a refused token as a call failure (exit 3), nothing created", async () => {
    const args = ["--manager", `127.0.0.1:${grid.managerPort}`, "--token", "wrong", "--descriptors", descriptors];
    const failed = await run(PYTHON, [join(example, "backend.py"), ...args, "--name", "py-refused", "--program", join(example, "work.js")]).catch((e: { code: number; stdout: string }) => e);
    expect("code" in failed && failed.code).toBe(3);
    expect(JSON.parse(failed.stdout)).toEqual({ code: "UNAUTHENTICATED", details: "wrong admin token" });
    expect((await grid.admin.listProjects({})).projects.map((p) => p.name)).not.toContain("py-refused");
  });
});
