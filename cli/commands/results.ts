import { once } from "node:events";
import { createWriteStream, type WriteStream } from "node:fs";
import { Command } from "commander";
import { Encoding } from "../../gen/disio/v1/common_pb.js";
import { gridFrom, withAdminFlags, type AdminFlags } from "../admin-client.js";
import { createProgressBar } from "../progress-bar.js";
import { resultRows } from "../result-row.js";
import { payloadText } from "./units.js";

interface ResultsFlags extends AdminFlags {
  project: string;
  follow?: boolean;
  out?: string;
  cursor: string;
  failed?: boolean;
}

/** Writes a chunk, waiting when the stream's buffer is full. */
async function write(out: NodeJS.WritableStream, chunk: string | Uint8Array): Promise<void> {
  if (!out.write(chunk)) await once(out, "drain");
}

/** Opens `path` for writing; rejects with the open error (ENOENT, EACCES…) instead of emitting it later. */
async function openOut(path: string): Promise<WriteStream> {
  const stream = createWriteStream(path, { highWaterMark: 1024 * 1024 });
  await once(stream, "open");
  return stream;
}

/**
 * `disio results`: every finished unit's canonical result as NDJSON, to stdout or `--out FILE`;
 * `--follow` streams results as units finish (resuming by itself after a manager restart) and exits
 * when every unit is final; `--failed` writes the failed units with their errors instead. Exits 1
 * when units failed, so scripts notice.
 */
export function resultsCommand(): Command {
  return withAdminFlags(
    new Command("results")
      .description("print finished units as NDJSON: {\"unit\",\"input\",\"output\",…}; exits 1 when units failed")
      .requiredOption("--project <id|name>", "the project's id or name")
      .option("--follow", "keep streaming results as units finish; exit when every unit is final")
      .option("--failed", "print the failed units instead: {\"unit\",\"input\",\"error\",\"attempts\"}")
      .option("--out <file>", "write to this file instead of stdout")
      .option("--cursor <cursor>", "start after this cursor (a row's cursor field)", "")
      .addHelpText(
        "after",
        "\nExamples:\n  disio results --project squares --out results.ndjson\n  disio results --project squares --follow | jq .output\n  disio results --project squares --failed",
      ),
  ).action(async (flags: ResultsFlags) => {
    const job = await gridFrom(flags).job(flags.project);
    const project = job.project;
    const out: NodeJS.WritableStream | WriteStream = flags.out ? await openOut(flags.out) : process.stdout;
    let count = 0;
    if (flags.failed) {
      for await (const unit of job.failures()) {
        const input = payloadText(unit.input, project.inputEncoding);
        await write(out, `{"unit":${JSON.stringify(unit.id)},"input":${project.inputEncoding === Encoding.BYTES ? JSON.stringify(input) : input},"error":${JSON.stringify(unit.error)},"attempts":${unit.attempts}}\n`);
        count++;
      }
    } else {
      const encodings = { input: project.inputEncoding, output: project.outputEncoding };
      const total = Number(project.counts?.done ?? 0n);
      const bar = flags.out ? createProgressBar("writing results", process.stderr, "rows") : { update() {}, finish() {} };
      for await (const page of job.resultPages({ cursor: flags.cursor, follow: flags.follow ?? false })) {
        await write(out, resultRows(page.results, encodings));
        count += page.results.length;
        bar.update(count, Math.max(total, count));
      }
      bar.finish();
    }
    if (out !== process.stdout) {
      await new Promise<void>((resolve, reject) => (out as WriteStream).end((error?: Error | null) => (error ? reject(error) : resolve())));
      process.stderr.write(`wrote ${count} ${flags.failed ? "failed units" : "results"} to ${flags.out}\n`);
    }
    const failed = Number((await job.refresh()).counts?.failed ?? 0n);
    if (failed > 0 && !flags.failed) {
      process.stderr.write(`warning: ${failed} units of project ${job.name} failed: disio results --project ${job.name} --failed lists them\n`);
      process.exitCode = 1;
    }
  });
}
