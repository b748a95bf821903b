import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { DistributorService } from "../gen/disio/v1/distributor_service_pb.js";
import { waitFor } from "../bench/grid-fixture.js";
import { freePort, startDistributorProcess, type GridProcess } from "../bench/grid-processes.js";
import { listAllResults } from "../cli/list-all-results.js";
import { joinRetrying } from "./join-retrying.js";
import { startSquaresManager } from "./squares-manager.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A redis-server of our own (the shared one must not be restarted), with its AOF in `dir`. */
async function startRedis(dir: string, port: number, appendfsync: "always" | "everysec"): Promise<ChildProcess> {
  const server = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--appendfsync", appendfsync, "--save", ""], {
    stdio: "ignore",
  });
  const redis = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on("error", () => undefined);
  await waitFor("redis-server up", async () => {
    await redis.connect().catch(() => undefined);
    return (await redis.ping()) === "PONG";
  }, 10_000);
  redis.disconnect();
  return server;
}

async function kill(process: ChildProcess): Promise<void> {
  if (process.exitCode !== null || process.signalCode !== null) return;
  const exited = new Promise((resolve) => process.once("exit", resolve));
  process.kill("SIGKILL");
  await exited;
}

/**
 * Redis restarted (SIGKILL, then started on the same AOF) under a running distributor: every result
 * the distributor acknowledged reaches the manager. With `--redis-wait-aof` that holds whatever
 * happens to the machine; without it, it holds for a crash of the Redis process (Redis writes the
 * AOF before replying; the documented loss window, up to a second of `appendfsync everysec`, is an
 * operating-system crash or power loss, which a test cannot stage).
 */
describe("a distributor over Redis restarted mid-run with AOF on", () => {
  const processes: GridProcess[] = [];
  const servers: ChildProcess[] = [];
  let dir = "";
  afterEach(async () => {
    for (const p of processes.splice(0)) {
      p.child.kill("SIGCONT");
      await p.stop("SIGKILL");
    }
    for (const server of servers.splice(0)) await kill(server);
    rmSync(dir, { recursive: true, force: true });
  });

  const runs: Array<{ name: string; appendfsync: "always" | "everysec"; args: string[] }> = [
    { name: "with --redis-wait-aof", appendfsync: "always", args: ["--redis-wait-aof"] },
    { name: "without it (appendfsync everysec)", appendfsync: "everysec", args: [] },
  ];
  for (const run of runs) {
    it(`keeps every acknowledged result ${run.name}`, async () => {
      dir = mkdtempSync(join(tmpdir(), "disio-redis-restart-"));
      const redisPort = await freePort();
      servers.push(await startRedis(dir, redisPort, run.appendfsync));
      const { manager, admin, projectId, token } = await startSquaresManager(dir, "restart", 1_000, processes);
      const distributor = await startDistributorProcess({
        dataDir: join(dir, "distributor"),
        port: await freePort(),
        managerUrl: manager.url,
        token,
        logDir: dir,
        extraArgs: ["--store", `redis://127.0.0.1:${redisPort}/0`, ...run.args],
      });
      processes.push(distributor);

      const client = createClient(DistributorService, createConnectTransport({ baseUrl: distributor.url, httpVersion: "1.1" }));
      const { sessionToken } = await joinRetrying(client);
      const headers = { authorization: `Bearer ${sessionToken}` };
      const acked = new Map<string, string>();
      const stream = new AbortController();
      let frozen = false;
      for await (const batch of client.work({ slots: 50 }, { headers, signal: stream.signal })) {
        const results = batch.tasks.map((task) => {
          const { n } = JSON.parse(decoder.decode(task.input)) as { n: number };
          return { unitId: task.unitId, copyId: task.copyId, output: JSON.stringify({ n, square: n * n }) };
        });
        await client.report(
          { results: results.map((r) => ({ copyId: r.copyId, unitId: r.unitId, outcome: { case: "output" as const, value: encoder.encode(r.output) } })) },
          { headers },
        );
        for (const r of results) acked.set(r.unitId, r.output);
        if (!frozen && acked.size >= 200) {
          // From here on, acknowledged results exist only in Redis until the manager thaws.
          manager.child.kill("SIGSTOP");
          frozen = true;
        } else if (frozen && acked.size >= 500) {
          break;
        }
      }
      stream.abort();
      await kill(servers.pop()!);
      servers.push(await startRedis(dir, redisPort, run.appendfsync));
      manager.child.kill("SIGCONT");

      const done = async () => Number((await admin.getStats({ projectId })).projects[0]?.counts?.done ?? 0n);
      await waitFor("every acknowledged result at the manager", async () => (await done()) >= acked.size, 60_000);
      const finished = new Map<string, string>();
      for await (const result of listAllResults(admin, projectId)) finished.set(result.unitId, decoder.decode(result.output));
      expect(finished).toEqual(acked);
    }, 120_000);
  }
});
