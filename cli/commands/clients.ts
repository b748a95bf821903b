import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Command } from "commander";
import { ClientSchema, type Client } from "../../gen/disio/v1/admin_service_pb.js";
import { createAdminClient, withAdminFlags, type AdminFlags } from "../admin-client.js";
import { formatTable, messageJson, printJson, printLine } from "../print.js";

function row(c: Client): string[] {
  return [c.clientKey, c.distributorId, String(c.trust), String(c.validated), String(c.wrong), c.lastSeenTime ? timestampDate(c.lastSeenTime).toISOString() : "never"];
}

/** `disio clients list`: client identities by trust, most trusted first. */
export function clientsCommand(): Command {
  const clients = new Command("clients").description("list client identities by trust");
  withAdminFlags(clients.command("list").description("list client identities, most trusted first")).action(async (flags: AdminFlags) => {
    const { clients: list } = await createAdminClient(flags).listClients({});
    if (flags.json) return printJson({ clients: list.map((c) => messageJson(ClientSchema, c)) });
    if (list.length === 0) return printLine("no clients judged yet");
    printLine(formatTable(["CLIENT", "DISTRIBUTOR", "TRUST", "VALIDATED", "WRONG", "LAST SEEN"], list.map(row)));
  });
  return clients;
}
