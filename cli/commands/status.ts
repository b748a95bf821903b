import { durationMs } from "@bufbuild/protobuf/wkt";
import { Command } from "commander";
import { GetStatsResponseSchema } from "../../gen/disio/v1/admin_service_pb.js";
import { ProjectState } from "../../gen/disio/v1/common_pb.js";
import { createAdminClient, withAdminFlags, type AdminFlags } from "../admin-client.js";
import { formatTable, messageJson, printJson, printLine } from "../print.js";

/** Formats milliseconds as `1h02m`, `3m05s` or `12s`. */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}m`;
  if (seconds >= 60) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, "0")}s`;
  return `${seconds}s`;
}

/** `disio status`: the grid at a glance: projects with progress, rate and ETA; distributors; clients. */
export function statusCommand(): Command {
  return withAdminFlags(new Command("status").description("show the grid: manager, projects, distributors, clients")).action(
    async (flags: AdminFlags) => {
      const client = createAdminClient(flags);
      const [info, stats] = await Promise.all([client.getInfo({}), client.getStats({})]);
      if (flags.json) {
        return printJson({ manager: { version: info.version, managerId: info.managerId, publicKey: info.publicKeyBase64, store: info.store }, stats: messageJson(GetStatsResponseSchema, stats) });
      }
      printLine(`manager ${info.managerId} (dis.io ${info.version}, ${info.store}) at ${flags.manager}`);
      printLine(`program key ${info.publicKeyBase64}`);
      printLine(`${stats.onlineDistributors} distributors online, ${stats.connectedClients} clients connected`);
      if (stats.projects.length === 0) return printLine("no projects");
      printLine(
        formatTable(
          ["PROJECT", "NAME", "STATE", "DONE", "QUEUED", "RUNNING", "FAILED", "UNITS/S", "ETA"],
          stats.projects.map((p) => [
            p.projectId,
            p.name,
            ProjectState[p.state].toLowerCase(),
            `${p.counts?.done ?? 0n}/${p.counts?.total ?? 0n}`,
            String(p.counts?.queued ?? 0n),
            String(p.counts?.running ?? 0n),
            String(p.counts?.failed ?? 0n),
            p.unitsPerSecond.toFixed(1),
            p.eta ? formatDuration(durationMs(p.eta)) : "-",
          ]),
        ),
      );
    },
  );
}
