import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "@connectrpc/connect";
import type { Command } from "commander";
import type { AdminService } from "../gen/disio/v1/admin_service_pb.js";
import { Grid } from "../sdk/index.js";
import { DEFAULT_MANAGER_DATA } from "./defaults.js";

/** The flags every admin command takes. */
export interface AdminFlags {
  /** Manager URL (flag, else `DISIO_MANAGER_URL`, else http://127.0.0.1:7100). */
  manager?: string;
  /** Admin token (flag, else `DISIO_ADMIN_TOKEN`, else the local manager's data folder). */
  token?: string;
  /** Print JSON instead of text. */
  json?: boolean;
}

/** Adds `--manager`, `--token` and `--json` to an admin command. */
export function withAdminFlags(command: Command): Command {
  return command
    .option("--manager <url>", "manager URL (env DISIO_MANAGER_URL)", process.env.DISIO_MANAGER_URL ?? "http://127.0.0.1:7100")
    .option("--token <token>", "admin token (env DISIO_ADMIN_TOKEN; else read from the local manager's data folder)")
    .option("--json", "print JSON");
}

/** Finds the admin token: the flag, the environment, then `<default manager data>/admin-token`. */
export function resolveAdminToken(flag: string | undefined): string {
  const token = flag ?? process.env.DISIO_ADMIN_TOKEN;
  if (token) return token;
  const file = join(DEFAULT_MANAGER_DATA, "admin-token");
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    throw new Error(`no admin token: pass --token, set DISIO_ADMIN_TOKEN, or run where a local manager keeps ${file}`);
  }
}

/** The SDK's {@link Grid} for the manager and token the flags name: every admin command goes through it. */
export function gridFrom(flags: AdminFlags): Grid {
  return new Grid({ manager: flags.manager ?? "http://127.0.0.1:7100", token: resolveAdminToken(flags.token) });
}

/** The raw AdminService client of {@link gridFrom} (for the demo and test fixtures). */
export function createAdminClient(flags: AdminFlags): Client<typeof AdminService> {
  return gridFrom(flags).admin;
}
