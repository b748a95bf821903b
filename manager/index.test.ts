import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, statSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { AdminService } from "../gen/disio/v1/admin_service_pb.js";
import { ManagerService } from "../gen/disio/v1/manager_service_pb.js";
import { verifyProgram } from "../core/program-signature.js";
import { startManager, type RunningManager } from "./index.js";

const log = pino({ level: "silent" });
let dir: string | undefined;
let manager: RunningManager | undefined;

afterEach(async () => {
  await manager?.close({ graceMs: 100 });
  manager = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function clientsFor(url: string, token: string) {
  const transport = createConnectTransport({
    baseUrl: url,
    httpVersion: "1.1",
    interceptors: [(next) => (req) => {
      req.header.set("Authorization", `Bearer ${token}`);
      return next(req);
    }],
  });
  return { admin: createClient(AdminService, transport), manager: createClient(ManagerService, transport) };
}

describe("startManager", () => {
  it("serves both services on a socket with admin and distributor auth; revoked tokens are Unauthenticated", async () => {
    dir = mkdtempSync(join(tmpdir(), "disio-manager-"));
    manager = await startManager({ dataDir: dir, port: 0, log, sweepIntervalMs: 200 });
    expect(statSync(join(dir, "admin-token")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "signing-key.pem")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, "admin-token"), "utf8").trim()).toBe(manager.adminToken);

    const wrong = clientsFor(manager.url, "nope");
    await expect(wrong.admin.getInfo({})).rejects.toMatchObject({ code: Code.Unauthenticated });

    const { admin } = clientsFor(manager.url, manager.adminToken);
    const info = await admin.getInfo({});
    expect(Buffer.from(info.publicKey).toString("base64")).toBe(manager.publicKeyBase64);
    expect(info.managerId).toBe(manager.managerId);

    const { project } = await admin.createProject({ name: "p", programSource: "export default (x) => x" });
    const { unitIds } = await admin.addUnits({ projectId: project!.id, units: [{ input: new TextEncoder().encode("1") }] });
    const created = await admin.createDistributor({ name: "edge" });
    const edge = clientsFor(manager.url, created.token).manager;
    const reg = await edge.register({ publicUrl: "http://127.0.0.1:7200", capacity: 10, version: "0.1.0" });
    expect(reg.distributorId).toBe(created.distributor!.id);
    expect(reg.publicKey).toEqual(info.publicKey);
    const { tasks } = await edge.lease({ maxCopies: 5 });
    expect(tasks.map((t) => t.unitId)).toEqual(unitIds);
    const { program } = await edge.getProgram({ hash: tasks[0]!.programHash });
    expect(await verifyProgram(program!, info.publicKey)).toBe(true);
    const metrics = await (await fetch(`${manager.url}/metrics`)).text();
    expect(metrics).toMatch(/disio_units_leased_total 1/);

    expect((await admin.revokeDistributor({ id: created.distributor!.id })).requeuedCopies).toBe(1n);
    const failure = await edge.heartbeat({}).catch((e: unknown) => ConnectError.from(e));
    expect(failure).toMatchObject({ code: Code.Unauthenticated });

    await manager.close();
    manager = await startManager({ dataDir: dir, port: 0, log });
    const again = clientsFor(manager.url, manager.adminToken).admin;
    const info2 = await again.getInfo({});
    expect(info2.publicKeyBase64).toBe(info.publicKeyBase64);
    expect(info2.managerId).toBe(info.managerId);
    expect(info2.groupId).toBe(info.groupId);
    expect((await again.getProject({ id: project!.id })).project!.counts!.queued).toBe(1n);
  });

  it("signs with a key kept outside its data (signingKeyFile), and serves stored programs signed with the key in force", async () => {
    dir = mkdtempSync(join(tmpdir(), "disio-manager-"));
    manager = await startManager({ dataDir: join(dir, "data"), port: 0, log });
    const first = clientsFor(manager.url, manager.adminToken).admin;
    const { project } = await first.createProject({ name: "p", programSource: "export default (x) => x" });
    await first.addUnits({ projectId: project!.id, units: [{ input: new TextEncoder().encode("1") }] });
    const oldKey = manager.publicKeyBase64;
    await manager.close();

    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const keyFile = join(dir, "rotated.pem");
    writeFileSync(keyFile, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    manager = await startManager({ dataDir: join(dir, "data"), port: 0, log, signingKeyFile: keyFile });
    const newKey = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url");
    expect(manager.publicKeyBase64).toBe(newKey.toString("base64"));
    expect(manager.publicKeyBase64).not.toBe(oldKey);
    const { admin } = clientsFor(manager.url, manager.adminToken);
    const created = await admin.createDistributor({ name: "edge" });
    const edge = clientsFor(manager.url, created.token).manager;
    expect(Buffer.from((await edge.register({ publicUrl: "http://127.0.0.1:7200", capacity: 10, version: "0.1.0" })).publicKey).toString("base64")).toBe(manager.publicKeyBase64);
    const { tasks } = await edge.lease({ maxCopies: 5 });
    const { program } = await edge.getProgram({ hash: tasks[0]!.programHash });
    expect(await verifyProgram(program!, new Uint8Array(newKey))).toBe(true);
  });

  it("ends a distributor's long-poll Lease at once when it closes, instead of after the grace period", async () => {
    dir = mkdtempSync(join(tmpdir(), "disio-manager-"));
    manager = await startManager({ dataDir: dir, port: 0, log });
    const { admin } = clientsFor(manager.url, manager.adminToken);
    const { token } = await admin.createDistributor({ name: "poller" });
    const edge = clientsFor(manager.url, token).manager;
    const lease = edge.lease({ maxCopies: 10, wait: { seconds: 20n, nanos: 0 } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = Date.now();
    await manager.close({ graceMs: 10_000 });
    manager = undefined;
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((await lease).tasks).toHaveLength(0);
  });
});
