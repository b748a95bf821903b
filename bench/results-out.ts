import { execFile } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { packageRoot } from "../cli/package-root.js";
import { CLI } from "./grid-processes.js";
import { addNumberUnits, createProjectFrom, doneCount, startGrid, waitFor } from "./grid-fixture.js";

/**
 * `node dist/bench/results-out.js [units]`: computes `units` (default 50,000) trivial units on a
 * grid of real processes, then times `disio results --out FILE` and prints rows per second.
 */
const units = Number(process.argv[2] ?? 50_000);
const grid = await startGrid(2, { prefix: "disio-bench-results-" });
try {
  const source = readFileSync(join(packageRoot(), "examples", "trivial", "work.js"), "utf8");
  const projectId = await createProjectFrom(grid, "results-out", source);
  await addNumberUnits(grid, projectId, units);
  await waitFor("every unit done", async () => (await doneCount(grid, projectId)) === units, 600_000);
  const out = join(grid.dir, "results.ndjson");
  const started = performance.now();
  await promisify(execFile)(process.execPath, [CLI, "results", "--project", projectId, "--out", out], {
    env: { ...process.env, DISIO_MANAGER_URL: grid.manager.url, DISIO_ADMIN_TOKEN: grid.adminToken },
  });
  const seconds = (performance.now() - started) / 1000;
  const rows = readFileSync(out, "utf8").split("\n").filter(Boolean).length;
  console.log(JSON.stringify({ rows, seconds: Number(seconds.toFixed(2)), rowsPerSecond: Math.round(rows / seconds), bytes: statSync(out).size }));
} finally {
  await grid.close();
}
