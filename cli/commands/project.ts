import { durationFromMs, durationMs, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Command, InvalidArgumentError, Option } from "commander";
import { ProjectSchema, type Project } from "../../gen/disio/v1/admin_service_pb.js";
import { Encoding, ProjectState } from "../../gen/disio/v1/common_pb.js";
import { gridFrom, withAdminFlags, type AdminFlags } from "../admin-client.js";
import { duration, fraction, wholeNumber } from "../option-parsers.js";
import { formatTable, messageJson, printJson, printLine } from "../print.js";

/** commander parser for an integer (may be negative). */
function integer(text: string): number {
  if (!/^-?\d+$/.test(text)) throw new InvalidArgumentError("expected an integer");
  return Number(text);
}

function isoDate(text: string): Date {
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new InvalidArgumentError("expected an ISO 8601 date, e.g. 2026-12-31T00:00:00Z");
  return date;
}

/**
 * A project's state as a user means it: a finished project whose units did not all succeed says
 * so (`done, 3 of 250 failed`) instead of a bare `done`.
 */
export function projectStateLabel(state: ProjectState, counts: Project["counts"]): string {
  const label = ProjectState[state].toLowerCase();
  const notDone = Number((counts?.failed ?? 0n) + (counts?.expired ?? 0n) + (counts?.cancelled ?? 0n));
  if ((state !== ProjectState.DONE && state !== ProjectState.EXPIRED) || notDone === 0) return label;
  const parts = [
    counts?.failed ? `${counts.failed} failed` : "",
    counts?.expired ? `${counts.expired} expired` : "",
    counts?.cancelled ? `${counts.cancelled} cancelled` : "",
  ].filter(Boolean);
  return `${label}, ${parts.join(", ")} of ${counts?.total ?? 0n}`;
}

/** A project as printed by `project show` and `project list`. */
function describeProject(project: Project): string[] {
  const counts = project.counts;
  return [
    project.id,
    project.name,
    projectStateLabel(project.state, counts),
    counts ? `${counts.done}/${counts.total}` : "0/0",
    String(project.priority),
    `${project.quorum}/${project.replication}`,
  ];
}

function printProject(project: Project, json: boolean | undefined): void {
  if (json) return printJson(messageJson(ProjectSchema, project));
  const counts = project.counts;
  printLine(
    [
      `id            ${project.id}`,
      `name          ${project.name}`,
      `state         ${projectStateLabel(project.state, counts)}`,
      `program       ${project.programHash}`,
      `encoding      ${Encoding[project.inputEncoding].toLowerCase()} → ${Encoding[project.outputEncoding].toLowerCase()}`,
      `replication   ${project.replication} (quorum ${project.quorum}, max attempts ${project.maxAttempts})`,
      `lease timeout ${project.leaseTimeout ? durationMs(project.leaseTimeout) / 1000 : 0}s`,
      `deadline      ${project.deadline ? timestampDate(project.deadline).toISOString() : "none"}`,
      `priority      ${project.priority}`,
      `adaptive      ${project.adaptiveReplication ? "on: a trusted client's result may stand alone" : "off"}`,
      `canary rate   ${project.canaryRate > 0 ? `${project.canaryRate} of leased copies bring a canary along` : "0 (no canaries leased)"}`,
      `units         ${counts?.total ?? 0n} total: ${counts?.queued ?? 0n} queued, ${counts?.running ?? 0n} running, ${counts?.done ?? 0n} done, ${counts?.failed ?? 0n} failed, ${counts?.expired ?? 0n} expired, ${counts?.cancelled ?? 0n} cancelled`,
    ].join("\n"),
  );
}

/** The settings `project create` and `project update` both take ({@link withSettingsOptions}). */
interface SettingsFlags {
  replication?: number;
  quorum?: number;
  maxAttempts?: number;
  leaseTimeout?: number;
  deadline?: Date;
  priority?: number;
  adaptiveReplication?: boolean;
  canaryRate?: number;
}

/**
 * Adds the settings options `project create` and `project update` share, worded for each: create
 * tells the defaults, update what a change applies to.
 */
function withSettingsOptions(command: Command, verb: "create" | "update"): Command {
  const says = (create: string, update: string) => (verb === "create" ? create : update);
  return command
    .option("--replication <n>", `copies of each unit to compute ${says("(default 1)", "(units not done yet)")}`, wholeNumber)
    .option("--quorum <n>", `matching copies needed ${says("(default 1)", "(units not done yet)")}`, wholeNumber)
    .option("--max-attempts <n>", `attempts before a unit fails ${says("(default replication + 2)", "(the attempt budget)")}`, wholeNumber)
    .option("--lease-timeout <duration>", `how long a copy may stay out, e.g. 60s ${says("(default 60s)", "(copies leased from now on)")}`, duration)
    .option("--deadline <iso>", "stop leasing and expire open units at this time", isoDate)
    .option("--priority <p>", `higher is leased first${says(" (default 0)", "")}`, integer)
    .option("--adaptive-replication", `a unit goes out as one copy first; a trusted client's result may stand alone (with quorum > 1)${says("", ", for units not leased yet")}`)
    .option("--canary-rate <fraction>", `share of leased copies that bring a canary along, 0 to 1${says(" (default 0: none)", "")}; add canaries with units add --canaries`, fraction);
}

interface CreateFlags extends AdminFlags, SettingsFlags {
  name: string;
  program: string;
  inputEncoding: "json" | "bytes";
  outputEncoding: "json" | "bytes";
  paused?: boolean;
}

/** `disio project …`: create, list, show, pause, resume, delete. */
export function projectCommand(): Command {
  const project = new Command("project").description("create and manage projects");

  withAdminFlags(
    withSettingsOptions(
      project
        .command("create")
        .description("create a project from a program: an ES module exporting default async work(input, ctx); .ts files and folders are bundled with esbuild")
        .requiredOption("--name <name>", "project name (unique)")
        .requiredOption("--program <file|folder>", "the program: a .js ES module, a .ts file, or a folder (entry index.ts/index.js/work.ts/work.js)"),
      "create",
    )
      .addOption(new Option("--input-encoding <enc>", "how inputs are encoded").choices(["json", "bytes"]).default("json"))
      .addOption(new Option("--output-encoding <enc>", "how outputs are encoded").choices(["json", "bytes"]).default("json"))
      .option("--paused", "create it paused")
      .addHelpText(
        "after",
        "\nExamples:\n  disio project create --name squares --program work.js\n  disio project create --name render --program src/work.ts --replication 2 --quorum 2\n  disio project create --name sim --program ./sim/ --deadline 2026-12-31T00:00:00Z --priority 5\n  disio project create --name render --program work.js --replication 2 --quorum 2 --adaptive-replication --canary-rate 0.05",
      ),
  ).action(async (flags: CreateFlags) => {
    const job = await gridFrom(flags).createProject({
      name: flags.name,
      program: { file: flags.program },
      replication: flags.replication,
      quorum: flags.quorum,
      maxAttempts: flags.maxAttempts,
      leaseTimeoutMs: flags.leaseTimeout,
      deadline: flags.deadline,
      priority: flags.priority,
      inputEncoding: flags.inputEncoding,
      outputEncoding: flags.outputEncoding,
      paused: flags.paused,
      adaptiveReplication: flags.adaptiveReplication,
      canaryRate: flags.canaryRate,
    });
    printProject(job.project, flags.json);
  });

  withAdminFlags(project.command("list").description("list projects").addHelpText("after", "\nExample:\n  disio project list --json")).action(async (flags: AdminFlags) => {
    const projects: Project[] = [];
    for await (const p of gridFrom(flags).projects()) projects.push(p);
    if (flags.json) return printJson({ projects: projects.map((p) => messageJson(ProjectSchema, p)) });
    if (projects.length === 0) return printLine("no projects");
    printLine(formatTable(["ID", "NAME", "STATE", "DONE", "PRIORITY", "QUORUM"], projects.map(describeProject)));
  });

  withAdminFlags(project.command("show").description("show a project with its unit counts").argument("<id|name>").addHelpText("after", "\nExample:\n  disio project show squares")).action(
    async (id: string, flags: AdminFlags) => {
      printProject(await gridFrom(flags).project(id), flags.json);
    },
  );

  withAdminFlags(
    withSettingsOptions(
      project.command("update").description("change a project's priority, deadline, name, replication, quorum, attempts, lease timeout, adaptive replication or canary rate").argument("<id|name>"),
      "update",
    )
      .option("--no-deadline", "remove the deadline")
      .option("--no-adaptive-replication", "every unit gets all its copies again (units not leased yet)")
      .option("--name <name>", "a new name")
      .addHelpText(
        "after",
        "\nExamples:\n  disio project update squares --priority 10\n  disio project update squares --deadline 2026-12-31T00:00:00Z\n  disio project update squares --no-deadline\n  disio project update squares --adaptive-replication --canary-rate 0.05\n  disio project update squares --no-adaptive-replication --canary-rate 0",
      ),
  ).action(async (id: string, flags: AdminFlags & Omit<SettingsFlags, "deadline"> & { deadline?: Date | false; name?: string }) => {
    const grid = gridFrom(flags);
    const target = await grid.project(id);
    const { project: updated } = await grid.admin.updateProject({
      id: target.id,
      priority: flags.priority,
      ...(flags.deadline instanceof Date && { deadline: timestampFromDate(flags.deadline) }),
      clearDeadline: flags.deadline === false,
      name: flags.name,
      replication: flags.replication,
      quorum: flags.quorum,
      maxAttempts: flags.maxAttempts,
      leaseTimeout: flags.leaseTimeout === undefined ? undefined : durationFromMs(flags.leaseTimeout),
      adaptiveReplication: flags.adaptiveReplication,
      canaryRate: flags.canaryRate,
    });
    printProject(updated!, flags.json);
  });

  for (const [verb, state] of [
    ["pause", ProjectState.PAUSED],
    ["resume", ProjectState.ACTIVE],
  ] as const) {
    withAdminFlags(project.command(verb).description(`${verb} a project`).argument("<id|name>").addHelpText("after", `\nExample:\n  disio project ${verb} squares`)).action(async (id: string, flags: AdminFlags) => {
      const grid = gridFrom(flags);
      const { project: updated } = await grid.admin.updateProject({ id: (await grid.project(id)).id, state });
      printProject(updated!, flags.json);
    });
  }

  withAdminFlags(project.command("delete").description("delete a project with its units and results").argument("<id|name>").addHelpText("after", "\nExample:\n  disio project delete squares")).action(
    async (id: string, flags: AdminFlags) => {
      const job = await gridFrom(flags).job(id);
      const deletedUnits = await job.delete();
      if (flags.json) return printJson({ id: job.id, deletedUnits });
      printLine(`deleted project ${job.name} (${job.id}) with ${deletedUnits} units`);
    },
  );
  return project;
}
