import { statSync } from "node:fs";
import { Command } from "commander";
import { createAdminClient, withAdminFlags, type AdminFlags } from "../admin-client.js";
import { createProgressBar } from "../progress-bar.js";
import { printJson, printLine } from "../print.js";
import { readNdjsonBatches } from "../read-ndjson-batches.js";

/** Units per AddUnits call: big enough to amortise the commit, small enough to stay far below the message limit. */
const BATCH = { maxCount: 10_000, maxBytes: 8 * 1024 * 1024 };

interface AddFlags extends AdminFlags {
  project: string;
  file: string;
}

/** `disio units add`: adds one unit per NDJSON line, in batches, with a progress bar on a TTY. */
export function unitsCommand(): Command {
  const units = new Command("units").description("add work-units to a project");
  withAdminFlags(
    units
      .command("add")
      .description("add units from an NDJSON file: one JSON input per line (- reads stdin)")
      .requiredOption("--project <id>", "the project's id")
      .requiredOption("--file <file>", "inputs.ndjson, or - for stdin"),
  ).action(async (flags: AddFlags) => {
    const client = createAdminClient(flags);
    const totalBytes = flags.file === "-" ? 0 : statSync(flags.file).size;
    const bar = createProgressBar("adding units");
    let added = 0;
    let bytesRead = 0;
    for await (const batch of readNdjsonBatches(flags.file, BATCH)) {
      const { unitIds } = await client.addUnits({ projectId: flags.project, units: batch.map((input) => ({ input })) });
      added += unitIds.length;
      bytesRead += batch.reduce((sum, input) => sum + input.length + 1, 0);
      bar.update(Math.min(bytesRead, totalBytes), totalBytes, `${added} units`);
    }
    bar.finish();
    if (flags.json) return printJson({ project: flags.project, added });
    printLine(`added ${added} units to project ${flags.project}`);
  });
  return units;
}
