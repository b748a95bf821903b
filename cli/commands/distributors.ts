import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Command } from "commander";
import { DistributorSchema, DistributorStatus, type Distributor } from "../../gen/disio/v1/admin_service_pb.js";
import { createAdminClient, withAdminFlags, type AdminFlags } from "../admin-client.js";
import { formatTable, messageJson, printJson, printLine } from "../print.js";

function row(d: Distributor): string[] {
  return [
    d.id,
    d.name,
    DistributorStatus[d.status].toLowerCase(),
    d.publicUrl || "-",
    d.region || "-",
    String(d.heldCopies),
    String(d.clients),
    d.lastSeenTime ? timestampDate(d.lastSeenTime).toISOString() : "never",
  ];
}

/** `disio distributors list | add | revoke | drain`. */
export function distributorsCommand(): Command {
  const distributors = new Command("distributors").description("list, add, revoke and drain distributors");

  withAdminFlags(distributors.command("list").description("list distributors with status and load").addHelpText("after", "\nExample:\n  disio distributors list --json")).action(async (flags: AdminFlags) => {
    const { distributors: list } = await createAdminClient(flags).listDistributors({});
    if (flags.json) return printJson({ distributors: list.map((d) => messageJson(DistributorSchema, d)) });
    if (list.length === 0) return printLine("no distributors");
    printLine(formatTable(["ID", "NAME", "STATUS", "URL", "REGION", "HELD", "CLIENTS", "LAST SEEN"], list.map(row)));
  });

  withAdminFlags(
    distributors
      .command("add")
      .description("create a distributor identity and print its token (shown once)")
      .requiredOption("--name <name>", "distributor name (unique)")
      .option("--region <region>", "region label, e.g. eu-west", "")
      .addHelpText("after", "\nExample:\n  disio distributors add --name edge-1 --region eu-west"),
  ).action(async (flags: AdminFlags & { name: string; region: string }) => {
    const { distributor, token } = await createAdminClient(flags).createDistributor({ name: flags.name, region: flags.region });
    if (flags.json) return printJson({ id: distributor!.id, name: distributor!.name, token });
    printLine(`distributor ${distributor!.id} (${distributor!.name})`);
    printLine(`token: ${token}`);
    printLine(`start it with: disio distributor --manager ${flags.manager} --token ${token}`);
  });

  withAdminFlags(distributors.command("revoke").description("revoke a distributor's token").argument("<id>").addHelpText("after", "\nExample:\n  disio distributors revoke d1")).action(
    async (id: string, flags: AdminFlags) => {
      const { requeuedCopies } = await createAdminClient(flags).revokeDistributor({ id });
      if (flags.json) return printJson({ id, revoked: true, requeuedCopies: Number(requeuedCopies) });
      printLine(`revoked distributor ${id}; ${requeuedCopies} copies it held went back to the queue`);
    },
  );

  withAdminFlags(distributors.command("drain").description("tell a distributor to finish what it holds and lease nothing new").argument("<id>").addHelpText("after", "\nExample:\n  disio distributors drain d1")).action(
    async (id: string, flags: AdminFlags) => {
      const { distributor } = await createAdminClient(flags).drainDistributor({ id });
      if (flags.json) return printJson(messageJson(DistributorSchema, distributor!));
      printLine(`distributor ${id} is draining`);
    },
  );
  return distributors;
}
