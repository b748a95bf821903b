/**
 * Draws the side-by-side runs as SVG charts: jobs/s against the number of jobs (2 worker
 * processes), and against worker processes (at the size given by --workers-at), one line per
 * system, each point the mean of its runs. Only runs adding as fast as accepted count (no offered
 * load). Run: `node dist/bench/plot-side-by-side.js --out-dir docs/bench bench/results/*.jsonl`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { lineChartSvg, type ChartSeries } from "./side-by-side/line-chart-svg.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { "out-dir": { type: "string", default: "docs/bench" }, "workers-at": { type: "string", default: "50000" } },
});
interface Run {
  system: string;
  jobs: number;
  workers: number;
  jobsPerSecond: number;
  offeredPerSecond?: number;
}
const runs = positionals
  .flatMap((file) => readFileSync(file, "utf8").split("\n").filter(Boolean))
  .map((line) => JSON.parse(line) as Partial<Run>)
  .filter((r): r is Run => (r.system === "bullmq" || r.system === "disio") && r.offeredPerSecond === undefined && typeof r.jobsPerSecond === "number");

const systems = [
  { system: "disio", name: "dis.io", color: "#c0392b" },
  { system: "bullmq", name: "BullMQ", color: "#2c3e50" },
];

/** One series per system: mean jobs/s per distinct x. */
function series(selected: Run[], x: (r: Run) => number): ChartSeries[] {
  return systems.map(({ system, name, color }) => {
    const byX = new Map<number, number[]>();
    for (const r of selected.filter((r) => r.system === system)) byX.set(x(r), [...(byX.get(x(r)) ?? []), r.jobsPerSecond]);
    return { name, color, points: [...byX].map(([px, ys]) => ({ x: px, y: ys.reduce((a, b) => a + b, 0) / ys.length })) };
  });
}

const outDir = values["out-dir"];
writeFileSync(
  join(outDir, "jobs-per-second-by-jobs.svg"),
  lineChartSvg(series(runs.filter((r) => r.workers === 2), (r) => r.jobs), { title: "Jobs/s, first add to last result (2 worker processes)", x: "jobs", y: "jobs/s" }),
);
writeFileSync(
  join(outDir, "jobs-per-second-by-workers.svg"),
  lineChartSvg(series(runs.filter((r) => r.jobs === Number(values["workers-at"])), (r) => r.workers), {
    title: `Jobs/s by worker processes (${Number(values["workers-at"]).toLocaleString("en-US")} jobs)`,
    x: "worker processes",
    y: "jobs/s",
  }),
);
