import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterEach, describe, expect, it } from "vitest";
import { Outcome } from "../gen/disio/v1/common_pb.js";
import { DistributorService } from "../gen/disio/v1/distributor_service_pb.js";
import { waitFor } from "../bench/grid-fixture.js";
import { freePort, startDistributorProcess, startManagerProcess, startWorkerProcess, type GridProcess } from "../bench/grid-processes.js";
import { createAdminClient } from "../cli/admin-client.js";
import { listAllResults } from "../cli/list-all-results.js";
import { removeRedisKeys } from "../distributor/store/redis/remove-redis-keys.js";
import { joinRetrying } from "./join-retrying.js";

const REDIS_URL = "redis://127.0.0.1:6379/0";
const UNITS = 2_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What a probe client saw: every copy it was handed, and the results the distributor acknowledged. */
interface Probe {
  received: Set<string>;
  acked: Map<string, string>;
  stop: AbortController;
  done: Promise<void>;
}

/** A client on `url` that computes its tasks itself (squares), a few at a time, recording everything. */
function startProbe(url: string): Probe {
  const client = createClient(DistributorService, createConnectTransport({ baseUrl: url, httpVersion: "1.1" }));
  const probe: Probe = { received: new Set(), acked: new Map(), stop: new AbortController(), done: Promise.resolve() };
  probe.done = (async () => {
    const { sessionToken } = await joinRetrying(client);
    const headers = { authorization: `Bearer ${sessionToken}` };
    for await (const batch of client.work({ slots: 5 }, { headers, signal: probe.stop.signal })) {
      for (const task of batch.tasks) probe.received.add(task.copyId);
      const results = batch.tasks.map((task) => {
        const { n } = JSON.parse(decoder.decode(task.input)) as { n: number };
        return { unitId: task.unitId, output: JSON.stringify({ n, square: n * n }), copyId: task.copyId };
      });
      if (results.length === 0) continue;
      await client.report(
        { results: results.map((r) => ({ copyId: r.copyId, unitId: r.unitId, outcome: { case: "output" as const, value: encoder.encode(r.output) } })) },
        { headers, signal: probe.stop.signal },
      );
      for (const r of results) probe.acked.set(r.unitId, r.output);
    }
  })().catch(() => undefined);
  return probe;
}

/**
 * A pool: two distributor processes over one Redis (one key prefix, one identity at the manager)
 * with workers on both. They share one buffer of leased copies and one result queue: no copy goes
 * to two clients, and every unit is done once at the manager, also when one of them is SIGKILLed
 * mid-run (its clients' copies go back to the pool when its liveness key expires, its
 * acknowledged results are sent by the other).
 */
describe("a pool of distributors over Redis", () => {
  const processes: GridProcess[] = [];
  const probes: Probe[] = [];
  let dir = "";
  let prefix = "";
  afterEach(async () => {
    for (const probe of probes.splice(0)) probe.stop.abort();
    await Promise.all(processes.splice(0).map((p) => p.stop("SIGKILL")));
    rmSync(dir, { recursive: true, force: true });
    await removeRedisKeys(REDIS_URL, prefix);
  });

  it("gives each copy to one client and finishes every unit once, with one distributor SIGKILLed mid-run", async () => {
    dir = mkdtempSync(join(tmpdir(), "disio-pool-"));
    prefix = `disio-test:${randomUUID()}:`;
    const adminToken = "pool-admin-token";
    const manager = await startManagerProcess({ dataDir: join(dir, "manager"), port: await freePort(), adminToken, logDir: dir });
    processes.push(manager);
    const admin = createAdminClient({ manager: manager.url, token: adminToken });
    const { token } = await admin.createDistributor({ name: "pool" });
    const pool = (name: string) => ({
      dataDir: join(dir, name),
      managerUrl: manager.url,
      token,
      logDir: dir,
      extraArgs: ["--store", REDIS_URL, "--redis-prefix", prefix, "--client-heartbeat", "1s"],
    });
    const a = await startDistributorProcess({ ...pool("a"), port: await freePort() });
    processes.push(a);
    const b = await startDistributorProcess({ ...pool("b"), port: await freePort() });
    processes.push(b);

    const { project } = await admin.createProject({
      name: "pool",
      // A little work per unit, so that the run lasts past the kill.
      programSource: "export default (input) => { let x = 0; for (let i = 0; i < 2e5; i++) x += i % 7; return { n: input.n, square: input.n * input.n }; };",
      leaseTimeout: durationFromMs(600_000),
    });
    const projectId = project!.id;
    const { unitIds } = await admin.addUnits({ projectId, units: Array.from({ length: UNITS }, (_, n) => ({ input: encoder.encode(JSON.stringify({ n })) })) });
    const workerA = startWorkerProcess({ distributorUrl: a.url, workers: 1, logDir: dir, name: "worker-a" });
    processes.push(workerA);
    processes.push(startWorkerProcess({ distributorUrl: b.url, workers: 1, logDir: dir, name: "worker-b" }));
    const probeA = startProbe(a.url);
    const probeB = startProbe(b.url);
    probes.push(probeA, probeB);

    const done = async () => Number((await admin.getStats({ projectId })).projects[0]?.counts?.done ?? 0n);
    await waitFor("a fifth of the units done", async () => (await done()) >= UNITS / 5 && probeA.acked.size > 0 && probeB.acked.size > 0, 60_000);
    await a.stop("SIGKILL");
    probeA.stop.abort();
    await workerA.stop("SIGKILL");
    const doneAtKill = await done();
    expect(doneAtKill).toBeLessThan(UNITS);

    // No copy went to both probes while both distributors ran.
    const both = [...probeA.received].filter((copyId) => probeB.received.has(copyId));
    expect(both).toEqual([]);

    await waitFor("every unit done", async () => (await done()) === UNITS, 60_000);
    const finished = new Map<string, string>();
    for await (const result of listAllResults(admin, projectId)) {
      expect(finished.has(result.unitId), `unit ${result.unitId} has two results`).toBe(false);
      finished.set(result.unitId, decoder.decode(result.output));
    }
    expect([...finished.keys()].sort()).toEqual([...unitIds].sort());
    // Every result a probe was acknowledged for, including those on the killed distributor, is the one the manager kept.
    for (const [unitId, output] of [...probeA.acked, ...probeB.acked]) expect(JSON.parse(finished.get(unitId)!)).toEqual(JSON.parse(output));
    const [lastOnA] = [...probeA.acked.keys()].slice(-1);
    const { unit } = await admin.getUnit({ id: lastOnA! });
    expect(unit!.copies.map((c) => c.outcome)).toEqual([Outcome.OK]);
  }, 240_000);
});
