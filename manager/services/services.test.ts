import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { durationFromMs, timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, createRouterTransport, type Interceptor } from "@connectrpc/connect";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AdminService } from "../../gen/disio/v1/admin_service_pb.js";
import { Encoding, Outcome, ProjectState, UnitState } from "../../gen/disio/v1/common_pb.js";
import { ManagerService } from "../../gen/disio/v1/manager_service_pb.js";
import { verifyProgram } from "../../core/program-signature.js";
import { createErrorInterceptor } from "../../server/error-interceptor.js";
import { principalKey } from "../../server/index.js";
import { DEFAULT_LIMITS, type ManagerContext } from "../manager-context.js";
import { managerRoutes } from "../routes.js";
import { loadOrCreateSigningKey } from "../signing-key.js";
import { openManagerStore } from "../store/open-manager-store.js";
import type { ManagerStore } from "../store/store.js";
import { StoreHealth } from "../../core/store-health.js";
import { Sweeper } from "../sweeper.js";
import { ThroughputMeter } from "../throughput-meter.js";
import { ValidatorPool } from "../validator-pool.js";

const log = pino({ level: "silent" });
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const PROGRAM = "export default async function work(x) { return x * 2; }";

let dir: string;
let store: ManagerStore;
let ctx: ManagerContext;
let clock: number;

async function setup() {
  dir = mkdtempSync(join(tmpdir(), "disio-services-"));
  store = await openManagerStore({ dataDir: dir, health: new StoreHealth(), log: pino({ level: "silent" }) });
  clock = 1_700_000_000_000;
  ctx = {
    store,
    signer: loadOrCreateSigningKey(dir),
    managerId: "m-test",
    groupId: "g-test",
    limits: { ...DEFAULT_LIMITS, maxLeaseWaitMs: 2_000 },
    meter: new ThroughputMeter(),
    metrics: { unitsLeased: () => {}, resultsReported: () => {} },
    log,
    now: () => clock,
    stopping: new AbortController().signal,
    validators: new ValidatorPool({ timeoutMs: 2_000 }),
    validations: { kick: () => undefined },
  };
}

/** Clients over an in-memory transport (binary, or the JSON codec); ManagerService calls carry `distributorId` as principal. */
function clients(distributorId = "", codec: "binary" | "json" = "binary") {
  const asDistributor: Interceptor = (next) => (req) => {
    req.contextValues.set(principalKey, { distributorId });
    return next(req);
  };
  const transport = createRouterTransport(managerRoutes(ctx), {
    transport: { useBinaryFormat: codec === "binary" },
    router: { interceptors: [createErrorInterceptor(log), asDistributor] },
  });
  return { admin: createClient(AdminService, transport), manager: createClient(ManagerService, transport) };
}

async function codeOf(promise: Promise<unknown>): Promise<{ code: Code; message: string }> {
  try {
    await promise;
  } catch (error) {
    const e = ConnectError.from(error);
    return { code: e.code, message: e.rawMessage };
  }
  throw new Error("expected the call to fail");
}

function newSweeper(startupGraceMs = 0) {
  return new Sweeper({ store, meter: ctx.meter, intervalMs: 1000, startupGraceMs, log, now: () => clock });
}

async function newDistributor(name = "d1") {
  const { admin } = clients();
  const created = await admin.createDistributor({ name });
  return created.distributor!.id;
}

beforeEach(setup);
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("AdminService", () => {
  it("creates a project with a signed program and defaults", async () => {
    const { admin } = clients();
    const { project } = await admin.createProject({ name: "pi", programSource: PROGRAM });
    expect(project).toMatchObject({
      name: "pi",
      state: ProjectState.ACTIVE,
      replication: 1,
      quorum: 1,
      maxAttempts: 3,
      inputEncoding: Encoding.JSON,
      hasValidator: false,
    });
    expect(project!.leaseTimeout!.seconds).toBe(60n);
    const distributorId = await newDistributor();
    const { program } = await clients(distributorId).manager.getProgram({ hash: project!.programHash });
    expect(program!.source).toBe(PROGRAM);
    expect(await verifyProgram(program!, ctx.signer.publicKey)).toBe(true);
    const info = await admin.getInfo({});
    expect(info.publicKey).toEqual(ctx.signer.publicKey);
    expect(info.publicKey).toHaveLength(32);
    expect(info.store).toBe(store.kind);
  });

  const invalid: Array<[string, Record<string, unknown>, string]> = [
    ["quorum > replication", { replication: 2, quorum: 3 }, "quorum"],
    ["replication 0", { replication: 0 }, "replication"],
    ["negative lease", { leaseTimeout: { seconds: -5n, nanos: 0 } }, "lease_timeout"],
    ["zero lease", { leaseTimeout: { seconds: 0n, nanos: 0 } }, "lease_timeout"],
    ["max_attempts < replication", { replication: 3, maxAttempts: 2 }, "max_attempts"],
    ["empty program", { programSource: "  " }, "program_source"],
    ["a program with a syntax error", { programSource: "export default (x) => {" }, "program_source: the program does not parse at line 1"],
    ["a CommonJS program", { programSource: "module.exports = (x) => x;" }, "program_source: the program is a CommonJS module"],
    ["a program without a default export", { programSource: "export const work = (x) => x;" }, "program_source: the program has no default export"],
    ["empty name", { name: "" }, "name"],
    ["unknown encoding", { inputEncoding: 9 }, "input_encoding"],
    ["a canary rate above 1", { canaryRate: 1.5 }, "canary_rate"],
  ];
  for (const [label, fields, field] of invalid) {
    it(`rejects ${label} with InvalidArgument naming ${field}`, async () => {
      const { admin } = clients();
      const result = await codeOf(admin.createProject({ name: "x", programSource: PROGRAM, ...fields }));
      expect(result.code).toBe(Code.InvalidArgument);
      expect(result.message.startsWith(field.includes(" ") ? field : `${field}:`), result.message).toBe(true);
    });
  }

  it("answers NotFound for unknown projects and units", async () => {
    const { admin } = clients();
    for (const call of [
      admin.getProject({ id: "p404" }),
      admin.getProject({ id: "garbage" }),
      admin.getUnit({ id: "u404" }),
      admin.addUnits({ projectId: "p404", units: [] }),
      admin.listResults({ projectId: "p404" }),
      admin.deleteProject({ id: "p404" }),
      admin.revokeDistributor({ id: "d404" }),
    ]) {
      expect((await codeOf(call)).code).toBe(Code.NotFound);
    }
  });

  it("rejects oversized and non-JSON unit inputs naming units[i].input", async () => {
    const { admin } = clients();
    const { project } = await admin.createProject({ name: "p", programSource: PROGRAM });
    const big = await codeOf(admin.addUnits({ projectId: project!.id, units: [{ input: json(1) }, { input: new Uint8Array(1024 * 1024 + 1) }] }));
    expect(big).toMatchObject({ code: Code.InvalidArgument });
    expect(big.message).toMatch(/^units\[1\]\.input:/);
    const bad = await codeOf(admin.addUnits({ projectId: project!.id, units: [{ input: new TextEncoder().encode("{oops") }] }));
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.message).toMatch(/^units\[0\]\.input:/);
    expect((await admin.getProject({ id: project!.id })).project!.counts!.total).toBe(0n);
    const bytes = await admin.createProject({ name: "b", programSource: PROGRAM, inputEncoding: Encoding.BYTES });
    expect((await admin.addUnits({ projectId: bytes.project!.id, units: [{ input: new Uint8Array([0xff, 0]) }] })).unitIds).toHaveLength(1);
  });

  it("takes canaries with a known JSON answer, uncounted, sets the canary rate, and rejects a known answer that is not JSON", async () => {
    const { admin } = clients();
    const { project } = await admin.createProject({ name: "p", programSource: PROGRAM, canaryRate: 0.1 });
    expect(project!.canaryRate).toBe(0.1);
    const { unitIds } = await admin.addUnits({ projectId: project!.id, units: [{ input: json(1) }, { input: json(2), expectedOutput: json(4) }] });
    expect(unitIds).toHaveLength(2);
    expect((await admin.getProject({ id: project!.id })).project!.counts!.total).toBe(1n);
    expect((await admin.updateProject({ id: project!.id, canaryRate: 0.5 })).project!.canaryRate).toBe(0.5);
    const bad = await codeOf(admin.addUnits({ projectId: project!.id, units: [{ input: json(1) }, { input: json(3), expectedOutput: new TextEncoder().encode("{oops") }] }));
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.message).toMatch(/^units\[1\]\.expected_output:/);
    expect((await codeOf(admin.updateProject({ id: project!.id, canaryRate: -1 }))).code).toBe(Code.InvalidArgument);
  });

  it("adds a request id's units once: a retry answers the same ids, a reuse for other units is InvalidArgument", async () => {
    const { admin } = clients();
    const { project } = await admin.createProject({ name: "p", programSource: PROGRAM });
    const batch = { projectId: project!.id, requestId: "cli-batch-1", units: [{ input: json(1) }, { input: json(2) }] };
    const first = await admin.addUnits(batch);
    expect(first.alreadyStored).toBe(false);
    const retry = await admin.addUnits(batch);
    expect({ unitIds: retry.unitIds, alreadyStored: retry.alreadyStored }).toEqual({ unitIds: first.unitIds, alreadyStored: true });
    const reused = await codeOf(admin.addUnits({ ...batch, units: [{ input: json(1) }] }));
    expect(reused.code).toBe(Code.InvalidArgument);
    expect(reused.message).toMatch(/^request_id: "cli-batch-1" already stored a different batch of units/);
    const tooLong = await codeOf(admin.addUnits({ ...batch, requestId: "r".repeat(129) }));
    expect(tooLong.code).toBe(Code.InvalidArgument);
    expect(tooLong.message).toMatch(/^request_id: at most 128 characters/);
    const plain = await admin.addUnits({ projectId: project!.id, units: batch.units });
    expect(plain.alreadyStored).toBe(false);
    expect((await admin.getProject({ id: project!.id })).project!.counts!.total).toBe(4n);
  });

  it("runs a unit through lease and report and shows every copy in GetUnit", async () => {
    const distributorId = await newDistributor();
    const { admin, manager } = clients(distributorId);
    const { project } = await admin.createProject({ name: "p", programSource: PROGRAM, replication: 2, quorum: 2, leaseTimeout: durationFromMs(10_000) });
    const { unitIds } = await admin.addUnits({ projectId: project!.id, units: [{ input: json(21) }] });
    const first = await manager.lease({ maxCopies: 10 });
    const second = await manager.lease({ maxCopies: 10 });
    expect([...first.tasks, ...second.tasks].map((t) => t.unitId)).toEqual([unitIds[0], unitIds[0]]);
    expect(text(first.tasks[0]!.input)).toBe("21");
    expect(timestampMs(first.tasks[0]!.deadline!)).toBe(clock + 10_000);
    clock += 500;
    const report = await manager.report({
      results: [
        { copyId: first.tasks[0]!.copyId, outcome: { case: "output", value: json(42) }, clientId: "k1" },
        { copyId: second.tasks[0]!.copyId, outcome: { case: "output", value: json(42) }, clientId: "k2" },
      ],
    });
    expect(report).toMatchObject({ accepted: 2, duplicates: 0, unknown: 0 });
    const { unit } = await admin.getUnit({ id: unitIds[0]! });
    expect(unit).toMatchObject({ state: UnitState.DONE, copiesSent: 2, attempts: 2, outputHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(text(unit!.output)).toBe("42");
    expect(unit!.copies.map((c) => [c.distributorId, c.clientId, timestampMs(c.sentTime!), timestampMs(c.deadline!), timestampMs(c.receiveTime!), c.outcome])).toEqual([
      [distributorId, "k1", clock - 500, clock + 9_500, clock, Outcome.OK],
      [distributorId, "k2", clock - 500, clock + 9_500, clock, Outcome.OK],
    ]);
    const again = await manager.report({ results: [{ copyId: first.tasks[0]!.copyId, outcome: { case: "output", value: json(42) } }] });
    expect(again).toMatchObject({ accepted: 0, duplicates: 1 });
    const results = await admin.listResults({ projectId: project!.id });
    expect(results.results.map((r) => [r.unitId, text(r.output), r.copiesSent])).toEqual([[unitIds[0], "42", 2]]);
    const stats = await admin.getStats({ projectId: project!.id });
    expect(stats.projects[0]!.counts).toMatchObject({ done: 1n, total: 1n });
    expect(stats.projects[0]!.state).toBe(ProjectState.DONE);
  });

  it("pauses a project: its units are not leased until resumed", async () => {
    const distributorId = await newDistributor();
    const { admin, manager } = clients(distributorId);
    const { project } = await admin.createProject({ name: "p", programSource: PROGRAM });
    await admin.addUnits({ projectId: project!.id, units: [{ input: json(1) }] });
    const paused = await admin.updateProject({ id: project!.id, state: ProjectState.PAUSED });
    expect(paused.project!.state).toBe(ProjectState.PAUSED);
    expect((await manager.lease({ maxCopies: 10 })).tasks).toHaveLength(0);
    const hb = await manager.heartbeat({});
    expect(hb.pausedProjectIds).toEqual([project!.id]);
    await admin.updateProject({ id: project!.id, state: ProjectState.ACTIVE });
    expect((await manager.lease({ maxCopies: 10 })).tasks).toHaveLength(1);
    expect((await codeOf(admin.updateProject({ id: project!.id, state: ProjectState.DONE }))).code).toBe(Code.InvalidArgument);
    expect((await codeOf(admin.updateProject({ id: project!.id, quorum: 2 }))).message).toMatch(/^quorum:/);
  });

  it("long-polls Lease until units are added", async () => {
    const distributorId = await newDistributor();
    const { admin, manager } = clients(distributorId);
    const { project } = await admin.createProject({ name: "p", programSource: PROGRAM });
    const leasing = manager.lease({ maxCopies: 10, wait: durationFromMs(60_000) });
    await new Promise((r) => setTimeout(r, 50));
    expect(store.changes.waiting("unitsReady")).toBe(1);
    await admin.addUnits({ projectId: project!.id, units: [{ input: json(1) }, { input: json(2) }] });
    expect((await leasing).tasks).toHaveLength(2);
  });

  it("expires leases through the sweeper and fails the unit at max_attempts", async () => {
    const distributorId = await newDistributor();
    const { admin, manager } = clients(distributorId);
    const { project } = await admin.createProject({ name: "p", programSource: PROGRAM, maxAttempts: 1, leaseTimeout: durationFromMs(1_000) });
    const { unitIds } = await admin.addUnits({ projectId: project!.id, units: [{ input: json(1) }] });
    await manager.lease({ maxCopies: 1 });
    const sweeper = newSweeper();
    clock += 1_000;
    await sweeper.sweep();
    const { unit } = await admin.getUnit({ id: unitIds[0]! });
    expect(unit).toMatchObject({ state: UnitState.FAILED, attempts: 1 });
    expect(unit!.copies[0]!.outcome).toBe(Outcome.TIMEOUT);
    const requeued = await admin.requeueUnits({ projectId: project!.id });
    expect(requeued.requeued).toBe(1n);
    expect((await manager.lease({ maxCopies: 1 })).tasks.map((t) => t.unitId)).toEqual(unitIds);
  });

  it("times no lease out during the start-up grace, so distributors can renew what ran out while it was down", async () => {
    const distributorId = await newDistributor();
    const { admin, manager } = clients(distributorId);
    const { project } = await admin.createProject({ name: "p", programSource: PROGRAM, leaseTimeout: durationFromMs(1_000) });
    const { unitIds } = await admin.addUnits({ projectId: project!.id, units: [{ input: json(1) }] });
    const [task] = (await manager.lease({ maxCopies: 1 })).tasks;
    clock += 30_000; // the manager was down for 30 s: the lease ran out long ago
    const sweeper = newSweeper(10_000);
    await sweeper.sweep();
    expect((await admin.getUnit({ id: unitIds[0]! })).unit!.copies.map((c) => c.outcome)).toEqual([Outcome.PENDING]);
    expect((await manager.renew({ copyIds: [task!.copyId] })).renewed.map((r) => r.copyId)).toEqual([task!.copyId]);
    clock += 10_000; // the grace is over, and the renewed lease (1 s) too
    await sweeper.sweep();
    const { unit } = await admin.getUnit({ id: unitIds[0]! });
    expect(unit!.copies.map((c) => c.outcome)).toEqual([Outcome.TIMEOUT]);
    expect(unit).toMatchObject({ state: UnitState.QUEUED, attempts: 1 });
  });

  it("expires a project past its deadline", async () => {
    const { admin } = clients();
    const { project } = await admin.createProject({ name: "p", programSource: PROGRAM, deadline: timestampFromMs(clock + 5_000) });
    await admin.addUnits({ projectId: project!.id, units: [{ input: json(1) }] });
    const sweeper = newSweeper();
    clock += 5_000;
    await sweeper.sweep();
    const after = await admin.getProject({ id: project!.id });
    expect(after.project!.state).toBe(ProjectState.EXPIRED);
    expect(after.project!.counts).toMatchObject({ expired: 1n, queued: 0n });
  });

  it("streams results with WatchResults, resumable from a cursor without gaps or repeats", async () => {
    const distributorId = await newDistributor();
    const { admin, manager } = clients(distributorId);
    const { project } = await admin.createProject({ name: "p", programSource: PROGRAM });
    const { unitIds } = await admin.addUnits({ projectId: project!.id, units: Array.from({ length: 6 }, (_, i) => ({ input: json(i) })) });
    const { tasks } = await manager.lease({ maxCopies: 10 });
    const reportSome = (from: number, to: number) =>
      manager.report({ results: tasks.slice(from, to).map((t) => ({ copyId: t.copyId, outcome: { case: "output" as const, value: json(t.unitId) } })) });
    await reportSome(0, 2);
    const seen: string[] = [];
    let cursor = "";
    const abort = new AbortController();
    for await (const batch of admin.watchResults({ projectId: project!.id }, { signal: abort.signal })) {
      seen.push(...batch.results.map((r) => r.unitId));
      cursor = batch.cursor;
      if (seen.length === 2) {
        await reportSome(2, 4);
      }
      if (seen.length >= 4) break;
    }
    abort.abort();
    await reportSome(4, 6);
    for await (const batch of admin.watchResults({ projectId: project!.id, cursor, untilDone: true })) {
      seen.push(...batch.results.map((r) => r.unitId));
      if (batch.projectDone) break;
    }
    expect(seen).toEqual(unitIds);
  });

  it("WatchResults sends the same results to binary callers (pre-encoded) and JSON callers (typed)", async () => {
    const distributorId = await newDistributor();
    const { manager } = clients(distributorId);
    const { admin } = clients();
    const { project } = await admin.createProject({ name: "p", programSource: PROGRAM });
    await admin.addUnits({ projectId: project!.id, units: Array.from({ length: 5 }, (_, i) => ({ input: json({ i, s: "é" }) })) });
    const { tasks } = await manager.lease({ maxCopies: 5 });
    await manager.report({ results: tasks.map((t, k) => ({ copyId: t.copyId, outcome: { case: "output" as const, value: json(k * 10) } })) });
    const watch = async (useBinaryFormat: boolean) => {
      const batches = [];
      for await (const batch of clients("", useBinaryFormat ? "binary" : "json").admin.watchResults({ projectId: project!.id, untilDone: true })) batches.push(batch);
      return batches;
    };
    const [binary, viaJson] = [await watch(true), await watch(false)];
    expect(binary.flatMap((b) => b.results.map((r) => new TextDecoder().decode(r.output)))).toEqual(["0", "10", "20", "30", "40"]);
    expect(binary.at(-1)!.projectDone).toBe(true);
    expect(binary).toEqual(viaJson);
  });

  it("answers ListResults and WatchResults alike over the binary codec (hand-encoded) and JSON (typed)", async () => {
    const distributorId = await newDistributor();
    const { admin, manager } = clients(distributorId);
    const { admin: jsonAdmin } = clients(distributorId, "json");
    const { project } = await admin.createProject({ name: "p", programSource: PROGRAM, replication: 2, quorum: 2 });
    await admin.addUnits({ projectId: project!.id, units: [1, 2, 3].map((i) => ({ input: json(i) })) });
    const tasks = [...(await manager.lease({ maxCopies: 10 })).tasks, ...(await manager.lease({ maxCopies: 10 })).tasks];
    clock += 1_234;
    await manager.report({ results: tasks.map((t, i) => ({ copyId: t.copyId, outcome: { case: "output" as const, value: json(`out ${t.unitId}`) }, clientId: `k${i}` })) });
    const row = (r: { unitId: string; input: Uint8Array; output: Uint8Array; outputHash: string; finishTime?: Timestamp; copiesSent: number; cursor: string }) =>
      [r.unitId, text(r.input), text(r.output), r.outputHash.length, timestampMs(r.finishTime!), r.copiesSent, r.cursor];
    const expected = tasks.slice(0, 3).map((t, i) => [t.unitId, String(i + 1), `"out ${t.unitId}"`, 64, clock, 2, expect.any(String)]);
    for (const client of [admin, jsonAdmin]) {
      const page = await client.listResults({ projectId: project!.id });
      expect(page.results.map(row)).toEqual(expected);
      expect(page.nextCursor).toBe(page.results[2]!.cursor);
      const batches = [];
      for await (const batch of client.watchResults({ projectId: project!.id, untilDone: true })) batches.push(batch);
      expect(batches.flatMap((b) => b.results.map(row))).toEqual(expected);
      expect(batches.at(-1)).toMatchObject({ projectDone: true, cursor: page.nextCursor });
    }
  });

  it("a reconciling Register gives back the copies the distributor lost, and only with reconcile", async () => {
    const id = await newDistributor("edge");
    const { admin } = clients();
    const { manager } = clients(id);
    const { project } = await admin.createProject({ name: "p", programSource: PROGRAM });
    await admin.addUnits({ projectId: project!.id, units: [1, 2, 3].map((i) => ({ input: json(i) })) });
    const leased = (await manager.lease({ maxCopies: 3 })).tasks.map((t) => t.copyId);
    expect(leased).toHaveLength(3);
    const announce = { publicUrl: "http://edge:7200", region: "", capacity: 100, version: "0.1.0" };
    expect((await manager.register({ ...announce, heldCopyIds: [leased[0]!] })).releasedCopies).toBe(0);
    expect((await admin.getProject({ id: project!.id })).project!.counts).toMatchObject({ queued: 0n, running: 3n });
    expect((await manager.register({ ...announce, heldCopyIds: [leased[0]!], reconcile: true })).releasedCopies).toBe(2);
    expect((await admin.getProject({ id: project!.id })).project!.counts).toMatchObject({ queued: 2n, running: 1n });
    const tooMany = Array.from({ length: 200_001 }, (_, i) => `c${i}`);
    const refused = await codeOf(manager.register({ ...announce, heldCopyIds: tooMany, reconcile: true }));
    expect(refused.code).toBe(Code.InvalidArgument);
    expect(refused.message).toContain("held_copy_ids");
  });

  it("shows in GetUnit and GetStats the client a copy was given to, from the distributor's heartbeat", async () => {
    const { admin } = clients();
    const { manager } = clients(await newDistributor("edge"));
    const { project } = await admin.createProject({ name: "p", programSource: PROGRAM });
    const { unitIds } = await admin.addUnits({ projectId: project!.id, units: [{ input: json(1) }, { input: json(2) }] });
    const [task] = (await manager.lease({ maxCopies: 2 })).tasks;
    const before = (await admin.getStats({ projectId: project!.id })).projects[0]!;
    expect([before.copiesOut, before.copiesHeld, before.copiesComputing, before.unitsComputing]).toEqual([2n, 2n, 0n, 0n]);
    await manager.heartbeat({ givenCopies: [{ copyId: task!.copyId, clientId: "volunteer-7" }] });
    const after = (await admin.getStats({ projectId: project!.id })).projects[0]!;
    expect([after.copiesOut, after.copiesHeld, after.copiesComputing, after.unitsComputing]).toEqual([2n, 1n, 1n, 1n]);
    const { unit } = await admin.getUnit({ id: unitIds[0]! });
    expect(unit!.copies.map((c) => [c.id, c.clientId, c.outcome])).toEqual([[task!.copyId, "volunteer-7", Outcome.PENDING]]);
    const tooMany = Array.from({ length: 100_001 }, (_, i) => ({ copyId: `c${i}`, clientId: "k" }));
    const refused = await codeOf(manager.heartbeat({ givenCopies: tooMany }));
    expect(refused.code).toBe(Code.InvalidArgument);
    expect(refused.message).toMatch(/^given_copies:/);
  });

  it("refuses a Report of copies leased to another distributor: counted, not recorded", async () => {
    const { admin } = clients();
    const owner = clients(await newDistributor("owner")).manager;
    const intruder = clients(await newDistributor("intruder")).manager;
    const { project } = await admin.createProject({ name: "p", programSource: PROGRAM });
    const { unitIds } = await admin.addUnits({ projectId: project!.id, units: [{ input: json(1) }] });
    const [task] = (await owner.lease({ maxCopies: 1 })).tasks;
    const forged = await intruder.report({ results: [{ copyId: task!.copyId, outcome: { case: "output", value: json(666) } }] });
    expect(forged).toMatchObject({ accepted: 0, duplicates: 0, unknown: 0, refused: 1 });
    expect((await admin.getUnit({ id: unitIds[0]! })).unit!.state).toBe(UnitState.RUNNING);
    const real = await owner.report({ results: [{ copyId: task!.copyId, outcome: { case: "output", value: json(1) } }] });
    expect(real).toMatchObject({ accepted: 1, refused: 0 });
    expect(text((await admin.getUnit({ id: unitIds[0]! })).unit!.output)).toBe("1");
  });

  it("creates, drains and revokes distributors; a revoke requeues its copies", async () => {
    const { admin } = clients();
    const created = await admin.createDistributor({ name: "edge", region: "eu" });
    expect(created.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const id = created.distributor!.id;
    const { manager } = clients(id);
    await manager.register({ publicUrl: "http://edge:7200", region: "eu", capacity: 100, version: "0.1.0" });
    await manager.heartbeat({
      clients: 3,
      heldCopies: 1,
      endedSessions: [
        { clientId: "k", platform: "node", joinTime: timestampFromMs(clock - 60_000), lastSeenTime: timestampFromMs(clock) },
        { clientId: "v", platform: "browser", joinTime: timestampFromMs(clock - 7_000), lastSeenTime: timestampFromMs(clock) },
      ],
    });
    const listed = await admin.listDistributors({});
    expect(listed.distributors[0]).toMatchObject({ id, name: "edge", status: 2, clients: 3, heldCopies: 1, publicUrl: "http://edge:7200" });
    const stats = await admin.getStats({});
    expect(stats).toMatchObject({ onlineDistributors: 1, connectedClients: 3 });
    expect(stats.clientLifespan!.clients).toBe(2n);
    expect(stats.clientLifespan!.p90!.seconds).toBe(60n);
    const bars = (life: (typeof stats.platformLifespans)[number]) =>
      life.buckets.filter((b) => b.clients > 0n).map((b) => [b.upperBound === undefined ? "open" : Number(b.upperBound.seconds), Number(b.clients)]);
    // 60 s falls in [60 s, 120 s), 7 s in [5 s, 15 s): lower bounds inclusive.
    expect(bars(stats.clientLifespan!)).toEqual([[15, 1], [120, 1]]);
    expect(stats.clientLifespan!.buckets).toHaveLength(15);
    expect(stats.platformLifespans.map((l) => [l.platform, Number(l.clients), bars(l)])).toEqual([
      ["browser", 1, [[15, 1]]],
      ["node", 1, [[120, 1]]],
    ]);
    clock += 3 * DEFAULT_LIMITS.heartbeatIntervalMs + 1;
    expect((await admin.listDistributors({})).distributors[0]!.status).toBe(3);
    const { project } = await admin.createProject({ name: "p", programSource: PROGRAM });
    await admin.addUnits({ projectId: project!.id, units: [{ input: json(1) }] });
    expect((await manager.lease({ maxCopies: 5 })).tasks).toHaveLength(1);
    expect((await admin.drainDistributor({ id })).distributor!.status).toBe(4);
    expect((await manager.heartbeat({})).drain).toBe(true);
    expect((await admin.revokeDistributor({ id })).requeuedCopies).toBe(1n);
    expect((await admin.getProject({ id: project!.id })).project!.counts).toMatchObject({ queued: 1n, running: 0n });
  });
});
