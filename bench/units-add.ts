import { createWriteStream, readFileSync, statSync } from "node:fs";
import { once } from "node:events";
import { join } from "node:path";
import { packageRoot } from "../cli/package-root.js";
import { ProjectState } from "../gen/disio/v1/common_pb.js";
import { createProjectFrom, doneCount, startGridServers, waitFor, type GridServers } from "./grid-fixture.js";
import { runMeasuredCli } from "./measured-cli.js";

/**
 * `node dist/bench/units-add.js [small] [large]`: times `disio units add --file` (start-up, the
 * file check and the adds) on a grid of real processes, and reads the CLI's peak RSS:
 * `small` (default 200,000) and `large` (default 2,000,000) lines into an idle grid (no worker; the
 * peak RSS must not grow with the file), then `small` lines into a project a 2-process worker is
 * computing. Prints one JSON line per run.
 */
const small = Number(process.argv[2] ?? 200_000);
const large = Number(process.argv[3] ?? 2_000_000);

/** Writes `lines` inputs `{"n":i,"pad":"…"}` (about 40 bytes a line). */
async function writeInputs(path: string, lines: number): Promise<void> {
  const out = createWriteStream(path);
  for (let start = 0; start < lines; start += 10_000) {
    let chunk = "";
    for (let i = start; i < Math.min(lines, start + 10_000); i++) chunk += `{"n":${i},"pad":"abcdefghijklmnop"}\n`;
    if (!out.write(chunk)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}

/** Runs `disio units add` as users do (see runMeasuredCli) and measures it. */
async function unitsAdd(grid: GridServers, projectId: string, file: string, lines: number, label: string) {
  const measured = await runMeasuredCli(grid, ["units", "add", "--project", projectId, "--file", file], label);
  return { run: label, lines, fileMb: Number((statSync(file).size / 2 ** 20).toFixed(1)), unitsPerSecond: Math.round(lines / measured.seconds), ...measured };
}

const grid = await startGridServers({ prefix: "disio-bench-units-add-" });
try {
  const source = readFileSync(join(packageRoot(), "examples", "trivial", "work.js"), "utf8");
  for (const [label, lines] of [["idle-small", small], ["idle-large", large]] as const) {
    const file = join(grid.dir, `${label}.ndjson`);
    await writeInputs(file, lines);
    const projectId = await createProjectFrom(grid, label, source);
    await grid.admin.updateProject({ id: projectId, state: ProjectState.PAUSED });
    console.log(JSON.stringify(await unitsAdd(grid, projectId, file, lines, label)));
  }
  // While computing: a worker drains the project the units go into.
  const file = join(grid.dir, "computing.ndjson");
  await writeInputs(file, small);
  const projectId = await createProjectFrom(grid, "computing", source);
  const head = join(grid.dir, "head.ndjson");
  await writeInputs(head, 50_000);
  await unitsAdd(grid, projectId, head, 50_000, "head");
  grid.addWorker(2);
  await waitFor("the worker computing", async () => (await doneCount(grid, projectId)) > 1_000, 120_000);
  const doneBefore = await doneCount(grid, projectId);
  const result = await unitsAdd(grid, projectId, file, small, "computing");
  const doneDuring = (await doneCount(grid, projectId)) - doneBefore;
  console.log(JSON.stringify({ ...result, unitsDoneMeanwhile: doneDuring }));
} finally {
  await grid.close();
}
