import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../cli/package-root.js";
import { runMeasuredCli } from "./measured-cli.js";
import { addNumberUnits, createProjectFrom, doneCount, startGrid, waitFor } from "./grid-fixture.js";

/**
 * `node dist/bench/results-out.js [units]`: computes `units` (default 50,000) trivial units on a
 * grid of real processes, then times `disio results --out FILE` (see runMeasuredCli) and prints rows
 * per second, with the CLI's and the manager's CPU time.
 */
const units = Number(process.argv[2] ?? 50_000);
const grid = await startGrid(2, { prefix: "disio-bench-results-" });
try {
  const source = readFileSync(join(packageRoot(), "examples", "trivial", "work.js"), "utf8");
  const projectId = await createProjectFrom(grid, "results-out", source);
  await addNumberUnits(grid, projectId, units);
  await waitFor("every unit done", async () => (await doneCount(grid, projectId)) === units, 600_000);
  const out = join(grid.dir, "results.ndjson");
  const measured = await runMeasuredCli(grid, ["results", "--project", projectId, "--out", out], "results-out");
  const rows = readFileSync(out, "utf8").split("\n").filter(Boolean).length;
  if (rows !== units) throw new Error(`wrote ${rows} rows, expected ${units}`);
  console.log(JSON.stringify({ rows, rowsPerSecond: Math.round(rows / measured.seconds), bytes: statSync(out).size, ...measured }));
} finally {
  await grid.close();
}
