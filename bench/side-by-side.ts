/**
 * `npm run bench`: dis.io against BullMQ in one run on this machine, as users see it: jobs added in
 * batches of 1,000 while the workers run, timed from the first add to the last result received by
 * the submitter. Then each system at half its measured maximum (latency), the bare Connect stream
 * (ceiling), and the CLI path. Prints one JSON line per run and a summary; see BENCHMARKS.md.
 *
 * Options: --sizes 50000,200000 --workers 2 --rounds 1 --latency-jobs 50000 --cli-units 200000 --only bullmq|disio
 * --skip latency,ceiling,cli --out FILE (the JSON lines, appended).
 */
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runBullmq } from "./side-by-side/bullmq-run.js";
import { runCeiling } from "./side-by-side/ceiling-run.js";
import { runCliPath } from "./side-by-side/cli-path-run.js";
import { runDisio } from "./side-by-side/disio-run.js";
import type { RunOptions, SystemRun } from "./side-by-side/system-run.js";

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "50000,200000" },
    workers: { type: "string", default: "2" },
    rounds: { type: "string", default: "1" },
    "latency-jobs": { type: "string", default: "50000" },
    "cli-units": { type: "string", default: "200000" },
    only: { type: "string" },
    skip: { type: "string", default: "" },
    out: { type: "string" },
  },
});
const sizes = values.sizes.split(",").map(Number);
const workers = Number(values.workers);
const skip = new Set(values.skip.split(",").filter(Boolean));
const systems = (["bullmq", "disio"] as const).filter((s) => values.only === undefined || values.only === s);
const base = mkdtempSync(join(tmpdir(), "disio-side-by-side-"));
const machine = `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;

function emit(record: object): void {
  const line = JSON.stringify({ ...record, machine, date: new Date().toISOString() });
  console.log(line);
  if (values.out) appendFileSync(values.out, `${line}\n`);
}

let runs = 0;
async function run(system: "bullmq" | "disio", options: Omit<RunOptions, "dir">): Promise<SystemRun> {
  const dir = mkdtempSync(join(base, `${system}-${runs++}-`));
  const result = await (system === "bullmq" ? runBullmq({ ...options, dir }) : runDisio({ ...options, dir }));
  rmSync(dir, { recursive: true, force: true });
  if (result.completed !== result.jobs || result.wrongOutputs !== 0) throw new Error(`${system}: ${result.completed}/${result.jobs} completed, ${result.wrongOutputs} wrong outputs`);
  emit(result);
  return result;
}

const best = new Map<string, number>();
try {
  for (const jobs of sizes) {
    for (let round = 0; round < Number(values.rounds); round++) {
      // Alternate which system goes first, so a drift in the machine's load hits both alike.
      const order = round % 2 === 0 ? systems : [...systems].reverse();
      const rates: Record<string, number> = {};
      for (const system of order) {
        const result = await run(system, { jobs, workers, batchSize: 1_000 });
        rates[system] = result.jobsPerSecond;
        best.set(system, Math.max(best.get(system) ?? 0, result.jobsPerSecond));
      }
      if (rates.bullmq && rates.disio) emit({ ratio: "disio/bullmq", jobs, round, value: Math.round((rates.disio / rates.bullmq) * 100) / 100 });
    }
  }
  if (!skip.has("latency")) {
    for (const system of systems) {
      await run(system, { jobs: Number(values["latency-jobs"]), workers, batchSize: 1_000, ratePerSecond: Math.round(best.get(system)! / 2) });
    }
  }
  if (!skip.has("ceiling")) {
    const ceiling = await runCeiling(Math.max(...sizes));
    emit(ceiling);
    if (best.has("disio")) emit({ ratio: "disio/ceiling", value: Math.round((best.get("disio")! / ceiling.jobsPerSecond) * 100) / 100 });
  }
  if (!skip.has("cli")) emit(await runCliPath(Number(values["cli-units"]), workers, mkdtempSync(join(base, "cli-"))));
} finally {
  rmSync(base, { recursive: true, force: true });
}
