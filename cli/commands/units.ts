import { statSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { ConnectError } from "@connectrpc/connect";
import { Command } from "commander";
import type { BackoffPolicy } from "../../core/backoff.js";
import { createAdminClient, withAdminFlags, type AdminFlags } from "../admin-client.js";
import { batchRequestId } from "../batch-request-id.js";
import { callWithRetries } from "../call-with-retries.js";
import { countOf, wholeNumber } from "../option-parsers.js";
import { createProgressBar } from "../progress-bar.js";
import { printJson, printLine } from "../print.js";
import { readNdjsonBatches } from "../read-ndjson-batches.js";

/** Lines per AddUnits call: big enough to amortise the commit, small enough to stay far below the message limit. */
const DEFAULT_BATCH_LINES = 10_000;
/** Most input bytes per AddUnits call. */
const BATCH_MAX_BYTES = 8 * 1024 * 1024;
/** Waits between tries of a batch: 0.25 s, 0.5 s, 1 s, 2 s, 4 s (less jitter), enough for a manager restart. */
const RETRY_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 4_000, multiplier: 2, jitter: 0.3 };

interface AddFlags extends AdminFlags {
  project: string;
  file: string;
  batchSize: number;
  retries: number;
  tag?: string;
}

/**
 * `disio units add`: adds one unit per NDJSON line, in batches, with a progress bar on a TTY. Each
 * batch carries a request id derived from the project, the batch's lines and their position (see
 * batchRequestId), so a failed batch is retried safely, and rerunning the same command after a
 * failure skips the batches already stored. On failure the error line says which lines are stored.
 */
export function unitsCommand(): Command {
  const units = new Command("units").description("add work-units to a project");
  withAdminFlags(
    units
      .command("add")
      .description(
        "add units from an NDJSON file: one JSON input per line (- reads stdin). Safe to rerun after a failure: batches already stored are skipped",
      )
      .requiredOption("--project <id>", "the project's id")
      .requiredOption("--file <file>", "inputs.ndjson, or - for stdin")
      .option("--batch-size <n>", "lines per AddUnits call; keep it when rerunning to resume", countOf, DEFAULT_BATCH_LINES)
      .option("--retries <n>", "retries of a failed batch, with backoff", wholeNumber, 5)
      .option("--tag <text>", "mixed into the batches' request ids: the same lines under another tag are added again as new units"),
  ).action(async (flags: AddFlags) => {
    const client = createAdminClient(flags);
    const source = flags.file === "-" ? "stdin" : flags.file;
    const totalBytes = flags.file === "-" ? 0 : statSync(flags.file).size;
    const bar = createProgressBar("adding units");
    let added = 0;
    let alreadyStored = 0;
    let storedThroughLine = 0;
    let bytesRead = 0;
    try {
      for await (const batch of readNdjsonBatches(flags.file, { maxCount: flags.batchSize, maxBytes: BATCH_MAX_BYTES })) {
        const request = {
          projectId: flags.project,
          requestId: batchRequestId(flags.project, flags.tag ?? "", batch),
          units: batch.inputs.map((input) => ({ input })),
        };
        const { value, attempt } = await callWithRetries(() => client.addUnits(request), {
          retries: flags.retries,
          backoff: RETRY_BACKOFF,
          sleep,
          onRetry: (_, retry) => bar.update(Math.min(bytesRead, totalBytes), totalBytes, `${added + alreadyStored} units, retry ${retry}/${flags.retries}`),
        });
        // Answered on a retry, "already stored" most likely means our own lost first try stored it.
        if (value.alreadyStored && attempt === 0) alreadyStored += value.unitIds.length;
        else added += value.unitIds.length;
        storedThroughLine = batch.lastLine;
        bytesRead += batch.inputs.reduce((sum, input) => sum + input.length + 1, 0);
        bar.update(Math.min(bytesRead, totalBytes), totalBytes, `${added + alreadyStored} units`);
      }
    } catch (error) {
      bar.finish();
      throw withNote(
        error,
        storedThroughLine > 0
          ? `stored lines 1-${storedThroughLine} of ${source}; rerun the same command to resume: stored batches are skipped`
          : `no line of ${source} stored`,
      );
    }
    bar.finish();
    if (flags.json) return printJson({ project: flags.project, added, alreadyStored });
    printLine(`added ${added} units to project ${flags.project}${alreadyStored > 0 ? ` (${alreadyStored} were already stored)` : ""}`);
  });
  return units;
}

/** The error with ` (note)` after its message, keeping its Connect code for the error line. */
function withNote(error: unknown, note: string): Error {
  if (error instanceof ConnectError) return new ConnectError(`${error.rawMessage} (${note})`, error.code, error.metadata, undefined, error);
  return new Error(`${error instanceof Error ? error.message : String(error)} (${note})`, { cause: error });
}
