import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterEach, describe, expect, it } from "vitest";
import { Outcome } from "../gen/disio/v1/common_pb.js";
import { DistributorService } from "../gen/disio/v1/distributor_service_pb.js";
import { freePort, startDistributorProcess, type GridProcess } from "../bench/grid-processes.js";
import { createAdminClient } from "../cli/admin-client.js";
import { listAllResults } from "../cli/list-all-results.js";
import { waitFor } from "../bench/grid-fixture.js";
import { removeRedisKeys } from "../distributor/store/redis/remove-redis-keys.js";
import { joinRetrying } from "./join-retrying.js";
import { startSquaresManager } from "./squares-manager.js";

const REDIS_URL = "redis://127.0.0.1:6379/0";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The durability promise, checked copy by copy: a result the distributor acknowledged to a client
 * is at the manager in the end, even when the distributor is killed with SIGKILL right after the
 * acknowledgement. The test is the client (it knows exactly which results were acknowledged), and
 * the manager is frozen (SIGSTOP) for the last ones, so they exist only in the distributor's store
 * when it dies. A lost one would leave its unit open: the restart's reconciling Register hands the
 * copy back to the manager's queue, and no client is left to compute it again.
 */
describe("results a distributor acknowledged", () => {
  const processes: GridProcess[] = [];
  let dir = "";
  const prefix = `disio-test:${randomUUID()}:`;
  afterEach(async () => {
    for (const p of processes.splice(0)) {
      p.child.kill("SIGCONT");
      await p.stop("SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
    await removeRedisKeys(REDIS_URL, prefix);
  });

  const stores: Array<[string, string[]]> = [
    ["SQLite", []],
    ["Redis", ["--store", REDIS_URL, "--redis-prefix", prefix]],
  ];
  it.each(stores)("all reach the manager after a SIGKILL that follows the last acknowledgement at once, on %s", async (_name, storeArgs) => {
    dir = mkdtempSync(join(tmpdir(), "disio-acked-"));
    const { manager, admin, projectId, token } = await startSquaresManager(dir, "acked", 3_000, processes);
    const distributorArgs = { dataDir: join(dir, "distributor"), port: await freePort(), managerUrl: manager.url, token, logDir: dir, extraArgs: storeArgs };
    let distributor = await startDistributorProcess(distributorArgs);
    processes.push(distributor);

    const client = createClient(DistributorService, createConnectTransport({ baseUrl: distributor.url, httpVersion: "1.1" }));
    const { sessionToken } = await joinRetrying(client);
    const headers = { authorization: `Bearer ${sessionToken}` };
    /** unit id → the output this client reported for it and got acknowledged. */
    const acked = new Map<string, string>();
    const stream = new AbortController();
    let frozen = false;
    for await (const batch of client.work({ slots: 200 }, { headers, signal: stream.signal })) {
      const results = batch.tasks.map((task) => {
        const { n } = JSON.parse(decoder.decode(task.input)) as { n: number };
        const output = JSON.stringify({ n, square: n * n });
        return { task, output, result: { copyId: task.copyId, unitId: task.unitId, outcome: { case: "output" as const, value: encoder.encode(output) } } };
      });
      await client.report({ results: results.map((r) => r.result) }, { headers });
      for (const r of results) acked.set(r.task.unitId, r.output);
      if (!frozen && acked.size >= 600) {
        // Let the first results reach the manager, then freeze it: the next ones stay at the distributor.
        await waitFor("the first results at the manager", async () => (await doneUnits(admin, projectId)) >= 600, 10_000);
        manager.child.kill("SIGSTOP");
        frozen = true;
      } else if (frozen && acked.size >= 1_200) {
        break;
      }
    }
    stream.abort();
    await distributor.stop("SIGKILL");
    manager.child.kill("SIGCONT");
    const doneBeforeRestart = await doneUnits(admin, projectId);
    expect(doneBeforeRestart, "some acknowledged results were only in the distributor's store").toBeLessThan(acked.size);

    distributor = await startDistributorProcess(distributorArgs);
    processes.push(distributor);
    await waitFor("every acknowledged result at the manager", async () => (await doneUnits(admin, projectId)) >= acked.size, 30_000);
    const finished = new Map<string, string>();
    for await (const result of listAllResults(admin, projectId)) finished.set(result.unitId, decoder.decode(result.output));
    expect(finished).toEqual(acked);
    const [someUnit] = [...acked.keys()].slice(-1);
    const { unit } = await admin.getUnit({ id: someUnit! });
    expect(unit!.copies.map((c) => c.outcome)).toEqual([Outcome.OK]);
  }, 90_000);
});

async function doneUnits(admin: ReturnType<typeof createAdminClient>, projectId: string): Promise<number> {
  const { projects } = await admin.getStats({ projectId });
  return Number(projects[0]?.counts?.done ?? 0n);
}
