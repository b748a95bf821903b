import { setTimeout as sleep } from "node:timers/promises";
import { durationMs, timestampDate } from "@bufbuild/protobuf/wkt";
import { Command } from "commander";
import { DistributorStatus, GetStatsResponseSchema, type Distributor, type GetStatsResponse } from "../../gen/disio/v1/admin_service_pb.js";
import { isRetryable } from "../../sdk/call-with-retries.js";
import type { Grid } from "../../sdk/index.js";
import { gridFrom, withAdminFlags, type AdminFlags } from "../admin-client.js";
import { formatTable, messageJson, printJson, printLine } from "../print.js";
import { projectStateLabel } from "./project.js";

/** Formats milliseconds as `1h02m`, `3m05s` or `12s`. */
export function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}m`;
  if (seconds >= 60) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, "0")}s`;
  return `${seconds}s`;
}

/**
 * The grid as text: one line of totals, a projects table (units done, being computed by clients,
 * queued; copies held at distributors, failed units, rate, ETA) and a distributors table.
 */
export function renderStatus(stats: GetStatsResponse, distributors: Distributor[], nowMs: number): string {
  const lines = [`${stats.onlineDistributors} distributors online, ${stats.connectedClients} clients connected`];
  if (stats.projects.length === 0) lines.push("no projects");
  else {
    lines.push(
      "",
      formatTable(
        ["PROJECT", "NAME", "STATE", "DONE", "COMPUTING", "QUEUED", "HELD", "FAILED", "UNITS/S", "ETA"],
        stats.projects.map((p) => {
          const total = Number(p.counts?.total ?? 0n);
          const done = Number(p.counts?.done ?? 0n);
          return [
            p.projectId,
            p.name,
            projectStateLabel(p.state, p.counts),
            `${done}/${total}${total > 0 ? ` ${Math.floor((done * 100) / total)}%` : ""}`,
            String(p.unitsComputing),
            String(p.counts?.queued ?? 0n),
            String(p.copiesHeld),
            String(p.counts?.failed ?? 0n),
            p.unitsPerSecond.toFixed(1),
            p.eta ? formatDuration(durationMs(p.eta)) : "-",
          ];
        }),
      ),
    );
  }
  if (distributors.length > 0) {
    lines.push(
      "",
      formatTable(
        ["DISTRIBUTOR", "NAME", "STATUS", "REGION", "CLIENTS", "HELD", "LAST SEEN"],
        distributors.map((d) => {
          const live = d.status === DistributorStatus.ONLINE || d.status === DistributorStatus.DRAINING;
          return [
            d.id,
            d.name,
            DistributorStatus[d.status].toLowerCase(),
            d.region || "-",
            live ? String(d.clients) : "-",
            live ? String(d.heldCopies) : "-",
            d.lastSeenTime ? `${formatDuration(nowMs - timestampDate(d.lastSeenTime).getTime())} ago` : "never",
          ];
        }),
      ),
    );
  }
  return lines.join("\n");
}

/** Streams WatchStats and redraws the view on each update; reconnects by itself. Runs until interrupted. */
async function watch(grid: Grid, flags: AdminFlags): Promise<void> {
  const tty = process.stdout.isTTY && !flags.json;
  for (let attempt = 0; ; ) {
    try {
      for await (const update of grid.admin.watchStats({ interval: { seconds: 1n, nanos: 0 } })) {
        attempt = 0;
        const stats = update.stats!;
        if (flags.json) {
          printJson(messageJson(GetStatsResponseSchema, stats));
          continue;
        }
        const { distributors } = await grid.admin.listDistributors({});
        const view = `dis.io at ${grid.url} — ${new Date().toLocaleTimeString()} (Ctrl-C quits)\n\n${renderStatus(stats, distributors, Date.now())}`;
        process.stdout.write(tty ? `\x1b[H\x1b[2J${view}\n` : `${view}\n\n`);
      }
    } catch (error) {
      if (!isRetryable(error)) throw error;
      if (tty) process.stdout.write(`\x1b[H\x1b[2Jdis.io at ${grid.url}: reconnecting… (${(error as Error).message})\n`);
    }
    await sleep(Math.min(5_000, 250 * 2 ** attempt++));
  }
}

/** `disio status [--watch]`: the grid at a glance; `--watch` keeps a live view from WatchStats. */
export function statusCommand(): Command {
  return withAdminFlags(
    new Command("status")
      .description("show the grid: projects (units done, being computed, queued; copies held at distributors), distributors and clients")
      .option("--watch", "keep a live view, updated every second from WatchStats")
      .addHelpText("after", "\nExamples:\n  disio status\n  disio status --watch\n  disio status --json | jq '.stats.projects[0].counts'"),
  ).action(async (flags: AdminFlags & { watch?: boolean }) => {
    const grid = gridFrom(flags);
    if (flags.watch) return watch(grid, flags);
    const [info, stats, { distributors }] = await Promise.all([grid.admin.getInfo({}), grid.admin.getStats({}), grid.admin.listDistributors({})]);
    if (flags.json) {
      return printJson({ manager: { version: info.version, managerId: info.managerId, publicKey: info.publicKeyBase64, store: info.store }, stats: messageJson(GetStatsResponseSchema, stats) });
    }
    printLine(`manager ${info.managerId} (dis.io ${info.version}, ${info.store}) at ${grid.url}`);
    printLine(`program key ${info.publicKeyBase64}`);
    printLine(renderStatus(stats, distributors, Date.now()));
  });
}

/** `disio watch`: the same as `disio status --watch`. */
export function watchCommand(): Command {
  return withAdminFlags(new Command("watch").description("a live view of projects and distributors (disio status --watch)")).action(async (flags: AdminFlags) =>
    watch(gridFrom(flags), flags),
  );
}
