#!/usr/bin/env -S node --max-semi-space-size=32
// The servers allocate many short-lived objects per unit (protobuf messages, rows, buffers): a
// 32 MiB young generation cuts the manager's GC time per unit by about a third at ~25 MB more RSS.
// V8 reads it only at start-up, hence the shebang (and `npm start`); bench/grid-processes.ts reads
// the flags from this line.
import { Code, ConnectError } from "@connectrpc/connect";
import { Command, CommanderError } from "commander";
import { VERSION } from "../core/version.js";
import { exitQuietlyOnClosedPipe, isClosedPipe } from "./closed-pipe.js";
import { demoCommand } from "./commands/demo.js";
import { clientsCommand } from "./commands/clients.js";
import { distributorsCommand } from "./commands/distributors.js";
import { projectCommand } from "./commands/project.js";
import { resultsCommand } from "./commands/results.js";
import { distributorCommand, managerCommand, workerCommand } from "./commands/serve.js";
import { statusCommand, watchCommand } from "./commands/status.js";
import { unitCommand, unitsCommand } from "./commands/units.js";

/** The `disio` program with every command of ARCHITECTURE §5. */
export function disioProgram(): Command {
  return new Command("disio")
    .description("dis.io: volunteer computing for the web. One function, a pile of inputs, a grid of browsers and machines.")
    .version(VERSION)
    .addCommand(demoCommand())
    .addCommand(managerCommand())
    .addCommand(distributorCommand())
    .addCommand(workerCommand())
    .addCommand(projectCommand())
    .addCommand(unitsCommand())
    .addCommand(unitCommand())
    .addCommand(resultsCommand())
    .addCommand(distributorsCommand())
    .addCommand(clientsCommand())
    .addCommand(statusCommand())
    .addCommand(watchCommand());
}

/** One line saying what went wrong: the Connect code and message for RPC errors. */
export function errorLine(error: unknown): string {
  if (error instanceof ConnectError) return `error: ${Code[error.code]}: ${error.rawMessage}`;
  if (error instanceof Error) return `error: ${error.message}`;
  return `error: ${String(error)}`;
}

exitQuietlyOnClosedPipe();
try {
  await disioProgram().exitOverride().parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
  } else if (isClosedPipe(error)) {
    process.exitCode = 0;
  } else {
    process.stderr.write(`${errorLine(error)}\n`);
    process.exitCode = 1;
  }
}
