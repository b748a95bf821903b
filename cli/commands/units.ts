import { readFileSync } from "node:fs";
import { toJson } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { ConnectError } from "@connectrpc/connect";
import { Command, InvalidArgumentError, Option } from "commander";
import { UnitSchema, type Copy, type Unit } from "../../gen/disio/v1/admin_service_pb.js";
import { Encoding, Outcome, UnitState } from "../../gen/disio/v1/common_pb.js";
import type { Job } from "../../sdk/index.js";
import { gridFrom, withAdminFlags, type AdminFlags } from "../admin-client.js";
import { batchRequestId } from "../batch-request-id.js";
import { checkNdjsonFile } from "../check-ndjson-file.js";
import { countOf, wholeNumber } from "../option-parsers.js";
import { createProgressBar } from "../progress-bar.js";
import { enumLabel, formatTable, printJson, printLine } from "../print.js";
import { readCanaryFile } from "../read-canary-file.js";
import { readAhead } from "../read-ahead.js";
import { readNdjsonBatches } from "../read-ndjson-batches.js";

/** Lines per AddUnits call: big enough to amortise the commit, small enough to stay far below the message limit. */
const DEFAULT_BATCH_LINES = 10_000;
/** Most input bytes per AddUnits call. */
const BATCH_MAX_BYTES = 8 * 1024 * 1024;
const STATES = ["queued", "running", "done", "failed", "expired", "cancelled"] as const;
const decoder = new TextDecoder();

interface AddFlags extends AdminFlags {
  project: string;
  file: string;
  batchSize: number;
  retries: number;
  tag?: string;
  array?: boolean;
  canaries?: boolean;
}

/** A unit state name as the CLI takes it → the proto enum. */
export function unitStateOf(name: string): UnitState {
  const state = UnitState[name.toUpperCase() as keyof typeof UnitState];
  if (state === undefined || state === UnitState.UNSPECIFIED) throw new InvalidArgumentError(`expected one of ${STATES.join(", ")}`);
  return state;
}

/** A unit's input or output as one line of text: JSON as stored, bytes as base64. */
export function payloadText(bytes: Uint8Array, encoding: Encoding): string {
  return encoding === Encoding.BYTES ? Buffer.from(bytes).toString("base64") : decoder.decode(bytes);
}

/** `disio units add | list | requeue | cancel`. */
export function unitsCommand(): Command {
  const units = new Command("units").description("add, list, requeue and cancel a project's work-units");

  withAdminFlags(
    units
      .command("add")
      .description(
        "add units from an NDJSON file, one JSON input per line (- reads stdin). The file is checked whole first: a bad line adds nothing. Safe to rerun after a failure: batches already stored are skipped",
      )
      .requiredOption("--project <id|name>", "the project's id or name")
      .requiredOption("--file <file>", "inputs.ndjson, or - for stdin")
      .option("--array", "the file holds one JSON array: add one unit per element")
      .option("--batch-size <n>", "lines per AddUnits call; keep it when rerunning to resume", countOf, DEFAULT_BATCH_LINES)
      .option("--retries <n>", "retries of a failed batch, with backoff", wholeNumber, 5)
      .option("--tag <text>", "mixed into the batches' request ids: the same lines under another tag are added again as new units")
      .option(
        "--canaries",
        'add canaries: units with a known answer, one {"input": …, "expected": …} per line (base64 text for a bytes project). Leased at the project\'s --canary-rate among ordinary copies, they catch clients answering wrong; they never finish and show in no count or result',
      )
      .addHelpText(
        "after",
        '\nExamples:\n  disio units add --project squares --file inputs.ndjson\n  seq 1 1000000 | disio units add --project squares --file -\n  disio units add --project squares --file list.json --array\n  echo \'{"input": 12, "expected": 144}\' | disio units add --project squares --file - --canaries',
      ),
  ).action(async (flags: AddFlags) => {
    if (flags.canaries) return addCanaries(flags);
    const source = flags.file === "-" ? "stdin" : flags.file;
    const totalUnits = flags.file === "-" || flags.array ? 0 : (await checkNdjsonFile(flags.file)).units;
    const job = await gridFrom(flags).job(flags.project);
    const bar = createProgressBar("adding units");
    let added = 0;
    let alreadyStored = 0;
    let storedThroughLine = 0;
    try {
      const batches = flags.array ? arrayBatches(flags.file, flags.batchSize) : readNdjsonBatches(flags.file, { maxCount: flags.batchSize, maxBytes: BATCH_MAX_BYTES }, { checked: flags.file !== "-" });
      for await (const batch of readAhead(batches)) {
        const stored = await job
          .addBatch(batch.inputs, {
            requestId: batchRequestId(job.id, flags.tag ?? "", batch),
            retries: flags.retries,
            onRetry: (_, retry) => bar.update(added + alreadyStored, totalUnits, `retry ${retry}/${flags.retries}`),
          })
          .catch((error: unknown) => {
            throw byLine(error, source, batch.lineNumbers);
          });
        if (stored.alreadyStored) alreadyStored += stored.unitIds.length;
        else added += stored.unitIds.length;
        storedThroughLine = batch.lastLine;
        bar.update(added + alreadyStored, Math.max(totalUnits, added + alreadyStored));
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
    if (flags.json) return printJson({ project: job.id, added, alreadyStored });
    printLine(`added ${added} units to project ${job.name} (${job.id})${alreadyStored > 0 ? ` (${alreadyStored} were already stored)` : ""}`);
  });

  withAdminFlags(
    units
      .command("list")
      .description("list a project's units with state, attempts and error")
      .requiredOption("--project <id|name>", "the project's id or name")
      .addOption(new Option("--state <state>", "only units in this state").choices(STATES))
      .option("--limit <n>", "at most this many units", countOf)
      .addHelpText("after", "\nExamples:\n  disio units list --project squares --state failed\n  disio units list --project squares --json | jq .error"),
  ).action(async (flags: AdminFlags & { project: string; state?: string; limit?: number }) => {
    const job = await gridFrom(flags).job(flags.project);
    const encoding = job.project.inputEncoding;
    const rows: string[][] = [];
    let count = 0;
    for await (const unit of job.units(flags.state ? unitStateOf(flags.state) : UnitState.UNSPECIFIED)) {
      if (flags.limit !== undefined && count >= flags.limit) break;
      count++;
      if (flags.json) printJson(unitJson(unit, job));
      else rows.push([unit.id, enumLabel(UnitState[unit.state], ""), `${unit.attempts}/${job.project.maxAttempts}`, clip(payloadText(unit.input, encoding), 40), clip(unit.error || "-", 60)]);
    }
    if (flags.json) return;
    if (rows.length === 0) return printLine(`no${flags.state ? ` ${flags.state}` : ""} units in project ${job.name}`);
    printLine(formatTable(["UNIT", "STATE", "ATTEMPTS", "INPUT", "ERROR"], rows));
  });

  for (const [verb, what] of [
    ["requeue", "put finished units back in the queue with a fresh attempt budget (default: every failed unit)"],
    ["cancel", "cancel open units: they are no longer leased (default: every open unit)"],
  ] as const) {
    const command = units
      .command(verb)
      .description(what)
      .requiredOption("--project <id|name>", "the project's id or name")
      .argument("[units...]", "unit ids (default: all, see above)");
    if (verb === "requeue") command.option("--state <state>", "requeue every unit in this state (failed, expired, cancelled, done)", unitStateOf);
    else command.option("--all", "required to cancel every open unit");
    withAdminFlags(
      command.addHelpText("after", `\nExamples:\n  disio units ${verb} --project squares u1a u1b${verb === "requeue" ? "\n  disio units requeue --project squares --state expired" : "\n  disio units cancel --project squares --all"}`),
    ).action(async (unitIds: string[], flags: AdminFlags & { project: string; state?: UnitState; all?: boolean }) => {
      const job = await gridFrom(flags).job(flags.project);
      if (verb === "cancel" && unitIds.length === 0 && !flags.all) throw new Error("name the units to cancel, or pass --all to cancel every open unit");
      const count = verb === "requeue" ? await job.requeue({ unitIds, state: flags.state }) : await job.cancel(unitIds);
      if (flags.json) return printJson({ project: job.id, [verb === "requeue" ? "requeued" : "cancelled"]: count });
      printLine(`${verb === "requeue" ? "requeued" : "cancelled"} ${count} units of project ${job.name}`);
    });
  }
  return units;
}

/** `units add --canaries`: the file checked whole, then its canaries in one AddUnits call (rerun-safe). */
async function addCanaries(flags: AddFlags): Promise<void> {
  if (flags.array) throw new Error("--canaries reads NDJSON lines, one {\"input\": …, \"expected\": …} each, not --array; nothing was added");
  const job = await gridFrom(flags).job(flags.project);
  const { canaries, lines } = await readCanaryFile(flags.file, { input: job.project.inputEncoding === Encoding.BYTES, output: job.project.outputEncoding === Encoding.BYTES });
  const source = flags.file === "-" ? "stdin" : flags.file;
  const { added, alreadyStored } = await job
    .addCanaries(canaries, { requestId: batchRequestId(job.id, `canaries:${flags.tag ?? ""}`, { firstLine: 1, inputs: lines }), retries: flags.retries })
    .catch((error: unknown) => {
      throw byLine(error, source, lines.map((_, i) => i + 1), "canaries");
    });
  const rate = job.project.canaryRate;
  if (flags.json) return printJson({ project: job.id, canaries: canaries.length, added, alreadyStored, canaryRate: rate });
  printLine(
    alreadyStored
      ? `these ${canaries.length} canaries were already stored in project ${job.name} (${job.id})`
      : `added ${added} canaries to project ${job.name} (${job.id})`,
  );
  if (rate === 0) printLine(`project ${job.name} leases no canary yet (canary rate 0): disio project update ${job.name} --canary-rate 0.05`);
}

/** `disio unit show ID`: a unit with its input, output, error and every copy sent. */
export function unitCommand(): Command {
  const unit = new Command("unit").description("show one work-unit");
  withAdminFlags(
    unit
      .command("show")
      .description("show a unit: input, output or error, and every copy sent (distributor, client, times, outcome, error)")
      .argument("<id>", "the unit's id")
      .addHelpText("after", "\nExample:\n  disio unit show u3f"),
  ).action(async (id: string, flags: AdminFlags) => {
    const grid = gridFrom(flags);
    const { unit: found } = await grid.admin.getUnit({ id });
    const job = await grid.job(found!.projectId);
    if (flags.json) return printJson(unitJson(found!, job));
    printUnit(found!, job);
  });
  return unit;
}

function unitJson(unit: Unit, job: Job): unknown {
  const base = toJson(UnitSchema, unit, { alwaysEmitImplicit: true }) as Record<string, unknown>;
  const asValue = (bytes: Uint8Array, encoding: Encoding) => (bytes.byteLength === 0 ? null : encoding === Encoding.BYTES ? payloadText(bytes, encoding) : JSON.parse(decoder.decode(bytes)));
  return { ...base, input: asValue(unit.input, job.project.inputEncoding), output: asValue(unit.output, job.project.outputEncoding) };
}

function printUnit(unit: Unit, job: Job): void {
  const time = (t: Parameters<typeof timestampDate>[0] | undefined) => (t ? timestampDate(t).toISOString() : "-");
  printLine(
    [
      `unit      ${unit.id} of project ${job.name} (${job.id})`,
      `state     ${enumLabel(UnitState[unit.state], "")}${unit.state === UnitState.FAILED ? `: ${unit.error}` : ""}`,
      `attempts  ${unit.attempts} of ${job.project.maxAttempts}, ${unit.copiesSent} copies sent${unit.copiesSent > unit.attempts ? " (a client's repeated failures and released copies use no attempt)" : ""}`,
      `input     ${payloadText(unit.input, job.project.inputEncoding)}`,
      `output    ${unit.output.byteLength > 0 ? payloadText(unit.output, job.project.outputEncoding) : "-"}`,
      `added     ${time(unit.createTime)}   finished ${time(unit.finishTime)}`,
    ].join("\n"),
  );
  if (unit.copies.length === 0) return printLine("copies    none sent yet");
  printLine("");
  printLine(
    formatTable(
      ["COPY", "DISTRIBUTOR", "CLIENT", "SENT", "RECEIVED", "OUTCOME", "ERROR"],
      unit.copies.map((c: Copy) => [c.id, c.distributorId || "-", c.clientId || "-", time(c.sentTime), time(c.receiveTime), enumLabel(Outcome[c.outcome], ""), c.error || "-"]),
    ),
  );
}

function clip(text: string, width: number): string {
  const line = text.replace(/\s+/g, " ");
  return line.length <= width ? line : `${line.slice(0, width - 1)}…`;
}

/** Batches of a file holding one JSON array, one input per element (the file is read whole). */
async function* arrayBatches(file: string, size: number) {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file === "-" ? 0 : file, "utf8"));
  } catch (error) {
    throw new Error(`${file}: not one JSON array (${(error as Error).message}); nothing was added`);
  }
  if (!Array.isArray(parsed)) throw new Error(`${file}: --array needs a file holding one JSON array; nothing was added`);
  const encoder = new TextEncoder();
  for (let i = 0; i < parsed.length; i += size) {
    const inputs = parsed.slice(i, i + size).map((value) => encoder.encode(JSON.stringify(value)));
    const lineNumbers = inputs.map((_, k) => i + k + 1);
    yield { inputs, firstLine: i + 1, lastLine: i + inputs.length, lineNumbers };
  }
}

/**
 * An AddUnits error naming `units[i]` rewritten to name the file line the unit came from (and, for
 * a canary, which of its values: `input` or `expected`).
 */
function byLine(error: unknown, source: string, lineNumbers: number[], kind: "units" | "canaries" = "units"): unknown {
  if (!(error instanceof ConnectError)) return error;
  const match = /^units\[(\d+)\]\.(input|expected_output): (.*)$/s.exec(error.rawMessage);
  const line = match ? lineNumbers[Number(match[1])] : undefined;
  if (line === undefined) return error;
  const field = kind === "canaries" ? (match![2] === "input" ? " input" : " expected") : "";
  return new ConnectError(`${source}:${line}:${field} ${match![3]}`, error.code, error.metadata, undefined, error);
}

/** The error with ` (note)` after its message, keeping its Connect code for the error line. */
function withNote(error: unknown, note: string): Error {
  if (error instanceof ConnectError) return new ConnectError(`${error.rawMessage} (${note})`, error.code, error.metadata, undefined, error);
  const message = error instanceof Error ? error.message : String(error);
  if (message.includes("nothing was added")) return error as Error;
  return new Error(`${message} (${note})`, { cause: error });
}
