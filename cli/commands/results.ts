import { once } from "node:events";
import { createWriteStream, type WriteStream } from "node:fs";
import { Command } from "commander";
import { createAdminClient, withAdminFlags, type AdminFlags } from "../admin-client.js";
import { listAllResults } from "../list-all-results.js";
import { resultRow } from "../result-row.js";

interface ResultsFlags extends AdminFlags {
  project: string;
  follow?: boolean;
  out?: string;
  cursor?: string;
}

/** Writes a line, waiting when the stream's buffer is full. */
async function writeLine(out: NodeJS.WritableStream, line: string): Promise<void> {
  if (!out.write(`${line}\n`)) await new Promise((resolve) => out.once("drain", resolve));
}

/** Opens `path` for writing; rejects with the open error (ENOENT, EACCES…) instead of emitting it later. */
async function openOut(path: string): Promise<WriteStream> {
  const stream = createWriteStream(path);
  await once(stream, "open");
  return stream;
}

/**
 * `disio results`: every finished unit's canonical result as NDJSON, to stdout or `--out FILE`.
 * `--follow` streams results as units finish and exits when the project is done.
 */
export function resultsCommand(): Command {
  return withAdminFlags(
    new Command("results")
      .description("print finished units as NDJSON: {\"unit\",\"input\",\"output\",…}")
      .requiredOption("--project <id>", "the project's id")
      .option("--follow", "keep streaming results as units finish; exit when the project is done")
      .option("--out <file>", "write to this file instead of stdout")
      .option("--cursor <cursor>", "start after this cursor (a row's cursor field)", ""),
  ).action(async (flags: ResultsFlags) => {
    const client = createAdminClient(flags);
    const { project } = await client.getProject({ id: flags.project });
    const encodings = { input: project!.inputEncoding, output: project!.outputEncoding };
    const out: NodeJS.WritableStream | WriteStream = flags.out ? await openOut(flags.out) : process.stdout;
    let count = 0;
    if (flags.follow) {
      for await (const batch of client.watchResults({ projectId: flags.project, cursor: flags.cursor, untilDone: true })) {
        for (const result of batch.results) await writeLine(out, resultRow(result, encodings));
        count += batch.results.length;
      }
    } else {
      for await (const result of listAllResults(client, flags.project, flags.cursor)) {
        await writeLine(out, resultRow(result, encodings));
        count += 1;
      }
    }
    if (out !== process.stdout) {
      await new Promise<void>((resolve, reject) => (out as WriteStream).end((error?: Error | null) => (error ? reject(error) : resolve())));
      process.stderr.write(`wrote ${count} results to ${flags.out}\n`);
    }
  });
}
