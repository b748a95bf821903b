import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { AdminService } from "../gen/disio/v1/admin_service_pb.js";
import { Outcome } from "../gen/disio/v1/common_pb.js";
import { DistributorService } from "../gen/disio/v1/distributor_service_pb.js";
import { ManagerService } from "../gen/disio/v1/manager_service_pb.js";
import { startDistributor, type RunningDistributor } from "../distributor/index.js";
import { startManager, type RunningManager } from "../manager/index.js";
import { joinRetrying } from "./join-retrying.js";

const log = pino({ level: "silent" });

function bearer(token: string): Interceptor {
  return (next) => (req) => {
    req.header.set("Authorization", `Bearer ${token}`);
    return next(req);
  };
}

describe("a Lease answer lost in a distributor crash", () => {
  const dirs: string[] = [];
  let manager: RunningManager | undefined;
  let distributor: RunningDistributor | undefined;
  afterEach(async () => {
    await distributor?.close({ graceMs: 200 });
    await manager?.close({ graceMs: 200 });
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "disio-lost-lease-"));
    dirs.push(dir);
    return dir;
  };

  it("is given back to the queue when the distributor starts, not at the 10-minute lease expiry", async () => {
    manager = await startManager({ dataDir: tempDir(), port: 0, log });
    const transport = (token: string) => createConnectTransport({ baseUrl: manager!.url, httpVersion: "1.1", interceptors: [bearer(token)] });
    const admin = createClient(AdminService, transport(manager.adminToken));
    const { project } = await admin.createProject({ name: "p", programSource: "export default (x) => x", leaseTimeout: durationFromMs(600_000) });
    const { unitIds } = await admin.addUnits({ projectId: project!.id, units: [1, 2, 3, 4, 5].map((i) => ({ input: new TextEncoder().encode(String(i)) })) });
    const { token } = await admin.createDistributor({ name: "edge" });

    // The distributor's previous life: it leased every unit and died before the answer reached its store.
    const previousLife = createClient(ManagerService, transport(token));
    await previousLife.register({ publicUrl: "http://127.0.0.1:1", capacity: 10, version: "0.1.0" });
    expect((await previousLife.lease({ maxCopies: 10 })).tasks).toHaveLength(5);

    distributor = await startDistributor({ port: 0, managerUrls: [manager.url], token, dataDir: tempDir(), log, leaseWaitMs: 200 });
    const client = createClient(DistributorService, createConnectTransport({ baseUrl: distributor.url, httpVersion: "1.1" }));
    const joined = await joinRetrying(client);
    const given: string[] = [];
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 10_000);
    try {
      for await (const batch of client.work({ slots: 10 }, { headers: { authorization: `Bearer ${joined.sessionToken}` }, signal: abort.signal })) {
        given.push(...batch.tasks.map((t) => t.unitId));
        if (given.length >= 5) break;
      }
    } finally {
      clearTimeout(timer);
    }
    expect(given.sort()).toEqual([...unitIds].sort());
    for (const id of unitIds) {
      const { unit } = await admin.getUnit({ id });
      expect(unit!.copies.map((c) => c.outcome)).toEqual([Outcome.RELEASED, Outcome.PENDING]);
      expect(unit!.attempts).toBe(1);
    }
  });
});
