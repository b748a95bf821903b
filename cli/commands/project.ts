import { readFileSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { durationFromMs, durationMs, timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Command, InvalidArgumentError, Option } from "commander";
import { CreateProjectRequestSchema, ProjectSchema, type Project } from "../../gen/disio/v1/admin_service_pb.js";
import { Encoding, ProjectState } from "../../gen/disio/v1/common_pb.js";
import { createAdminClient, withAdminFlags, type AdminFlags } from "../admin-client.js";
import { duration, wholeNumber } from "../option-parsers.js";
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

const ENCODINGS = { json: Encoding.JSON, bytes: Encoding.BYTES } as const;

/** A project as printed by `project show` and `project list`. */
function describeProject(project: Project): string[] {
  const counts = project.counts;
  return [
    project.id,
    project.name,
    ProjectState[project.state].toLowerCase(),
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
      `state         ${ProjectState[project.state].toLowerCase()}`,
      `program       ${project.programHash}`,
      `encoding      ${Encoding[project.inputEncoding].toLowerCase()} → ${Encoding[project.outputEncoding].toLowerCase()}`,
      `replication   ${project.replication} (quorum ${project.quorum}, max attempts ${project.maxAttempts})`,
      `lease timeout ${project.leaseTimeout ? durationMs(project.leaseTimeout) / 1000 : 0}s`,
      `deadline      ${project.deadline ? timestampDate(project.deadline).toISOString() : "none"}`,
      `priority      ${project.priority}`,
      `units         ${counts?.total ?? 0n} total: ${counts?.queued ?? 0n} queued, ${counts?.running ?? 0n} running, ${counts?.done ?? 0n} done, ${counts?.failed ?? 0n} failed, ${counts?.expired ?? 0n} expired, ${counts?.cancelled ?? 0n} cancelled`,
    ].join("\n"),
  );
}

interface CreateFlags extends AdminFlags {
  name: string;
  program: string;
  replication?: number;
  quorum?: number;
  maxAttempts?: number;
  leaseTimeout?: number;
  deadline?: Date;
  priority?: number;
  inputEncoding: keyof typeof ENCODINGS;
  outputEncoding: keyof typeof ENCODINGS;
  paused?: boolean;
}

/** `disio project …`: create, list, show, pause, resume, delete. */
export function projectCommand(): Command {
  const project = new Command("project").description("create and manage projects");

  withAdminFlags(
    project
      .command("create")
      .description("create a project from a program file (an ES module exporting default async work(input, ctx))")
      .requiredOption("--name <name>", "project name (unique)")
      .requiredOption("--program <file>", "the program's ES module source file")
      .option("--replication <n>", "copies of each unit to compute (default 1)", wholeNumber)
      .option("--quorum <n>", "matching copies needed (default 1)", wholeNumber)
      .option("--max-attempts <n>", "attempts before a unit fails (default replication + 2)", wholeNumber)
      .option("--lease-timeout <duration>", "how long a copy may stay out, e.g. 60s (default 60s)", duration)
      .option("--deadline <iso>", "stop leasing and expire open units at this time", isoDate)
      .option("--priority <p>", "higher is leased first (default 0)", integer)
      .addOption(new Option("--input-encoding <enc>", "how inputs are encoded").choices(["json", "bytes"]).default("json"))
      .addOption(new Option("--output-encoding <enc>", "how outputs are encoded").choices(["json", "bytes"]).default("json"))
      .option("--paused", "create it paused"),
  ).action(async (flags: CreateFlags) => {
    let source: string;
    try {
      source = readFileSync(flags.program, "utf8");
    } catch (error) {
      throw new Error(`cannot read program ${flags.program}: ${(error as NodeJS.ErrnoException).code ?? error}`);
    }
    const { project: created } = await createAdminClient(flags).createProject(
      create(CreateProjectRequestSchema, {
        name: flags.name,
        programSource: source,
        replication: flags.replication,
        quorum: flags.quorum,
        maxAttempts: flags.maxAttempts,
        leaseTimeout: flags.leaseTimeout === undefined ? undefined : durationFromMs(flags.leaseTimeout),
        deadline: flags.deadline && timestampFromDate(flags.deadline),
        priority: flags.priority ?? 0,
        inputEncoding: ENCODINGS[flags.inputEncoding],
        outputEncoding: ENCODINGS[flags.outputEncoding],
        paused: flags.paused ?? false,
      }),
    );
    printProject(created!, flags.json);
  });

  withAdminFlags(project.command("list").description("list projects")).action(async (flags: AdminFlags) => {
    const client = createAdminClient(flags);
    const projects: Project[] = [];
    let pageToken = "";
    do {
      const page = await client.listProjects({ pageSize: 1000, pageToken });
      projects.push(...page.projects);
      pageToken = page.nextPageToken;
    } while (pageToken);
    if (flags.json) return printJson({ projects: projects.map((p) => messageJson(ProjectSchema, p)) });
    if (projects.length === 0) return printLine("no projects");
    printLine(formatTable(["ID", "NAME", "STATE", "DONE", "PRIORITY", "QUORUM"], projects.map(describeProject)));
  });

  withAdminFlags(project.command("show").description("show a project with its unit counts").argument("<id>")).action(
    async (id: string, flags: AdminFlags) => {
      const { project: found } = await createAdminClient(flags).getProject({ id });
      printProject(found!, flags.json);
    },
  );

  for (const [verb, state] of [
    ["pause", ProjectState.PAUSED],
    ["resume", ProjectState.ACTIVE],
  ] as const) {
    withAdminFlags(project.command(verb).description(`${verb} a project`).argument("<id>")).action(async (id: string, flags: AdminFlags) => {
      const { project: updated } = await createAdminClient(flags).updateProject({ id, state });
      printProject(updated!, flags.json);
    });
  }

  withAdminFlags(project.command("delete").description("delete a project with its units and results").argument("<id>")).action(
    async (id: string, flags: AdminFlags) => {
      const { deletedUnits } = await createAdminClient(flags).deleteProject({ id });
      if (flags.json) return printJson({ id, deletedUnits: Number(deletedUnits) });
      printLine(`deleted project ${id} with ${deletedUnits} units`);
    },
  );
  return project;
}
