import { execFileSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import Database from "better-sqlite3";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createAdminClient } from "../cli/admin-client.js";
import { listAllResults } from "../cli/list-all-results.js";
import { ClientHandler } from "../core/client/client-handler.js";
import type { RunnableTask, UnitProcessor, UnitResult } from "../core/client/unit-processor.js";
import { startDistributor, type RunningDistributor } from "../distributor/index.js";
import { DistributorService } from "../gen/disio/v1/distributor_service_pb.js";
import { startManager, type RunningManager } from "../manager/index.js";
import { waitFor } from "../bench/grid-fixture.js";

const log = pino({ level: process.env.DISIO_TEST_LOG ?? "silent" });
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const FULL = "unhealthy: store full: database or disk is full\n";

/** Mounts an 8 MiB tmpfs on `dir`; returns why it could not (not root, no tmpfs) or undefined. */
function mountSmallDisk(dir: string): string | undefined {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", dir], { stdio: "pipe" });
    return undefined;
  } catch (error) {
    return String((error as { stderr?: Buffer }).stderr ?? error).trim();
  }
}

function unmount(dir: string): void {
  execFileSync("umount", [dir], { stdio: "pipe" });
}

const probe = mkdtempSync(join(tmpdir(), "disio-mount-probe-"));
const cannotMount = mountSmallDisk(probe);
if (cannotMount === undefined) unmount(probe);
rmSync(probe, { recursive: true, force: true });
if (cannotMount !== undefined) {
  console.warn(`SKIPPED test/full-disk.test.ts: cannot mount a tmpfs to fill (${cannotMount}); run as root to test full disks`);
}

/** Fills the file system of `dir` to the last byte with a filler file; returns its path. */
function fillDisk(dir: string): string {
  const path = join(dir, "filler");
  const fd = openSync(path, "w");
  try {
    for (const size of [1 << 20, 1 << 12, 1 << 9]) {
      const chunk = Buffer.alloc(size, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
      }
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

/**
 * Empties the write-ahead log of a database in use, so that the next write needs new space: with a
 * log left from earlier writes, SQLite reuses its space and writes small batches on a full disk.
 */
function emptyWal(path: string): void {
  const db = new Database(path);
  try {
    for (let tries = 0; tries < 50; tries++) {
      const [row] = db.pragma("wal_checkpoint(TRUNCATE)") as Array<{ busy: number }>;
      if (row?.busy === 0) return;
    }
    throw new Error(`could not empty the WAL of ${path}`);
  } finally {
    db.close();
  }
}

async function healthz(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`${url}/healthz`);
  return { status: response.status, body: await response.text() };
}

/** The manager's `disio_units_leased_total`. */
async function leasedTotal(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^disio_units_leased_total (\d+)/m.exec(text)?.[1] ?? 0);
}

/** Computes `{ n, square }` of `{ n }` inputs at once, or holds the tasks while `hold` is set. */
class SquaringProcessor implements UnitProcessor {
  readonly slots = 40;
  readonly executors = 1;
  hold = false;
  readonly held: RunnableTask[] = [];
  #listener: (results: UnitResult[]) => void = () => undefined;

  run(tasks: readonly RunnableTask[]): void {
    this.held.push(...tasks);
    if (!this.hold) this.release();
  }

  release(): void {
    this.hold = false;
    const tasks = this.held.splice(0);
    setImmediate(() => this.#listener(tasks.map(square)));
  }

  onResults(listener: (results: UnitResult[]) => void): void {
    this.#listener = listener;
  }

  async stop(): Promise<void> {
    this.held.length = 0;
  }
}

function square(task: RunnableTask): UnitResult {
  const { n } = JSON.parse(decoder.decode(task.input)) as { n: number };
  return { copyId: task.copyId, outcome: { ok: true, output: encoder.encode(JSON.stringify({ n, square: n * n })) }, durationMs: 0 };
}

/** A worker in this process: the real client handler core with {@link SquaringProcessor}. */
function startClient(distributorUrl: string) {
  const processor = new SquaringProcessor();
  const handler = new ClientHandler(
    { distributorUrl, platform: "node", reportDelayMs: 10, reportBatch: 20, backoff: { initialMs: 50, maxMs: 500, multiplier: 2, jitter: 0.2 } },
    { processor, connect: (baseUrl) => createClient(DistributorService, createConnectTransport({ baseUrl, httpVersion: "1.1" })) },
  );
  const events = { joins: 0, reportFailures: [] as ConnectError[], disconnects: [] as ConnectError[] };
  handler.on("joined", () => events.joins++);
  handler.on("reportFailed", (event) => events.reportFailures.push(event.error));
  handler.on("disconnected", (event) => events.disconnects.push(event.error));
  handler.start();
  return { processor, handler, events };
}

describe.skipIf(cannotMount !== undefined)("a full disk", () => {
  let dir = "";
  let disk = "";
  let manager: RunningManager | undefined;
  let distributor: RunningDistributor | undefined;
  let client: ReturnType<typeof startClient> | undefined;

  afterEach(async () => {
    try {
      await client?.handler.stop({ graceMs: 0 });
      await distributor?.close({ graceMs: 100 });
      await manager?.close({ graceMs: 100 });
    } finally {
      client = undefined;
      distributor = undefined;
      manager = undefined;
      if (disk !== "") unmount(disk);
      disk = "";
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** A manager and a distributor, one of them (`full`) with its data folder on the small disk. */
  async function startGrid(full: "manager" | "distributor") {
    dir = mkdtempSync(join(tmpdir(), "disio-full-disk-"));
    disk = join(dir, "disk");
    const reason = mountSmallDisk(disk);
    if (reason !== undefined) throw new Error(`mount failed: ${reason}`);
    manager = await startManager({
      dataDir: full === "manager" ? disk : join(dir, "manager"),
      port: 0,
      log,
      sweepIntervalMs: 200,
      heartbeatIntervalMs: 500,
    });
    const admin = createAdminClient({ manager: manager.url, token: manager.adminToken });
    const { token } = await admin.createDistributor({ name: "edge" });
    distributor = await startDistributor({
      dataDir: full === "distributor" ? disk : join(dir, "distributor"),
      port: 0,
      managerUrls: [manager.url],
      token,
      log,
      capacity: 60,
      highWatermark: 60,
      lowWatermark: 30,
      leaseBatch: 30,
      leaseWaitMs: 1_000,
      flushIntervalMs: 50,
    });
    return { admin, manager, distributor, dbPath: join(disk, full === "manager" ? "manager.sqlite" : "distributor.sqlite") };
  }

  async function createProject(admin: ReturnType<typeof createAdminClient>, name: string): Promise<string> {
    // A lease far longer than the test: a copy left leased at the manager would keep its unit open.
    const { project } = await admin.createProject({
      name,
      programSource: "export default (input) => ({ n: input.n, square: input.n * input.n });",
      leaseTimeout: durationFromMs(600_000),
    });
    return project!.id;
  }

  function units(from: number, count: number) {
    return Array.from({ length: count }, (_, k) => ({ input: encoder.encode(JSON.stringify({ n: from + k })) }));
  }

  async function counts(admin: ReturnType<typeof createAdminClient>, projectId: string) {
    const { projects } = await admin.getStats({ projectId });
    const c = projects[0]!.counts!;
    return { queued: Number(c.queued), running: Number(c.running), done: Number(c.done), failed: Number(c.failed) };
  }

  /** Every unit done once, with the right output: unit id → n of its input. */
  async function expectAllSquares(admin: ReturnType<typeof createAdminClient>, projectId: string, inputs: Map<string, number>): Promise<void> {
    const seen = new Map<string, unknown>();
    for await (const result of listAllResults(admin, projectId)) {
      expect(seen.has(result.unitId), `unit ${result.unitId} has two results`).toBe(false);
      seen.set(result.unitId, JSON.parse(decoder.decode(result.output)));
    }
    expect(seen.size).toBe(inputs.size);
    for (const [unitId, n] of inputs) expect(seen.get(unitId), unitId).toEqual({ n, square: n * n });
    expect(await counts(admin, projectId)).toEqual({ queued: 0, running: 0, done: inputs.size, failed: 0 });
  }

  it("on a distributor: ResourceExhausted and 503 with the reason, copies it cannot store go back, and the grid finishes by itself once space returns", async () => {
    const grid = await startGrid("distributor");
    const projectId = await createProject(grid.admin, "squares");
    // Clients trust the manager key a Join announces, known once the distributor registered.
    await waitFor("the distributor registered", async () => grid.distributor.distributorId !== "", 60_000);
    client = startClient(grid.distributor.url);

    // Full before any work arrives: every Lease brings copies the distributor cannot store.
    // Both synchronous: no write of the distributor (same process) comes between them.
    emptyWal(grid.dbPath);
    let filler = fillDisk(disk);
    const inputs = new Map<string, number>();
    const first = await grid.admin.addUnits({ projectId, units: units(0, 300) });
    first.unitIds.forEach((id, n) => inputs.set(id, n));
    await waitFor("/healthz says the store is full", async () => (await healthz(grid.distributor.url)).body === FULL, 60_000);
    expect((await healthz(grid.distributor.url)).status).toBe(503);
    expect((await healthz(grid.manager.url)).status).toBe(200);
    await waitFor("a few Leases while full", async () => (await leasedTotal(grid.manager.url)) >= 90, 20_000);
    // None of them stays leased at the manager: each went back to its queue at once.
    await waitFor("every copy leased while full back in the manager's queue", async () => {
      const c = await counts(grid.admin, projectId);
      return c.queued === 300 && c.running === 0;
    }, 10_000);

    rmSync(filler);
    await waitFor("some units done after space returned", async () => (await counts(grid.admin, projectId)).done >= 100, 30_000);
    expect((await healthz(grid.distributor.url)).body).toBe("ok\n");

    // Full while the client holds results: its Reports fail with ResourceExhausted and the reason.
    client.processor.hold = true;
    await waitFor("the client holding tasks", async () => client!.processor.held.length > 0, 60_000);
    // Both synchronous: no write of the distributor (same process) comes between them.
    emptyWal(grid.dbPath);
    filler = fillDisk(disk);
    client.processor.release();
    await waitFor("a Report refused for the full store", async () => client!.events.reportFailures.length > 0, 60_000);
    const refused = client.events.reportFailures[0]!;
    expect(Code[refused.code]).toBe("ResourceExhausted");
    expect(refused.rawMessage).toBe("store full: database or disk is full");
    expect(await healthz(grid.distributor.url)).toEqual({ status: 503, body: FULL });

    rmSync(filler);
    await waitFor("every unit done", async () => (await counts(grid.admin, projectId)).done === 300, 60_000);
    await waitFor("/healthz ok again", async () => (await healthz(grid.distributor.url)).status === 200, 60_000);
    await expectAllSquares(grid.admin, projectId, inputs);
    expect(new Set(client.events.reportFailures.map((e) => Code[e.code]))).toEqual(new Set(["ResourceExhausted"]));
    expect(client.events.disconnects.filter((e) => e.code === Code.Internal)).toEqual([]);
    expect(client.events.joins).toBe(1);
  }, 120_000);

  it("on a manager: AddUnits and DeleteProject answer ResourceExhausted, /healthz 503 with the reason, and the grid finishes by itself once space returns", async () => {
    const grid = await startGrid("manager");
    const projectId = await createProject(grid.admin, "squares");
    const spare = await createProject(grid.admin, "spare");
    await grid.admin.addUnits({ projectId: spare, units: units(0, 10) });
    const inputs = new Map<string, number>();
    const first = await grid.admin.addUnits({ projectId, units: units(0, 200) });
    first.unitIds.forEach((id, n) => inputs.set(id, n));
    client = startClient(grid.distributor.url);
    await waitFor("some units done", async () => (await counts(grid.admin, projectId)).done >= 50, 20_000);

    emptyWal(grid.dbPath);
    const filler = fillDisk(disk);
    // Batches that still fit in what the last writes left are added; one soon does not fit.
    let next = 200;
    let refused: ConnectError | undefined;
    while (refused === undefined && next < 20_000) {
      try {
        const added = await grid.admin.addUnits({ projectId, units: units(next, 200) });
        added.unitIds.forEach((id, k) => inputs.set(id, next + k));
        next += 200;
      } catch (error) {
        refused = ConnectError.from(error);
      }
    }
    expect(refused && Code[refused.code]).toBe("ResourceExhausted");
    expect(refused?.rawMessage).toBe("store full: database or disk is full");
    const deleted = await grid.admin.deleteProject({ id: spare }).catch((error: unknown) => ConnectError.from(error));
    expect(deleted instanceof ConnectError && Code[deleted.code]).toBe("ResourceExhausted");
    expect(await healthz(grid.manager.url)).toEqual({ status: 503, body: FULL });
    expect((await healthz(grid.distributor.url)).status).toBe(200);

    rmSync(filler);
    await waitFor("/healthz ok again", async () => (await healthz(grid.manager.url)).status === 200, 60_000);
    const retried = await grid.admin.addUnits({ projectId, units: units(next, 200) });
    retried.unitIds.forEach((id, k) => inputs.set(id, next + k));
    await grid.admin.deleteProject({ id: spare });
    await waitFor("every unit done", async () => (await counts(grid.admin, projectId)).done === inputs.size, 60_000);
    await expectAllSquares(grid.admin, projectId, inputs);
    expect(client.events.reportFailures).toEqual([]);
    expect(client.events.joins).toBe(1);
  }, 120_000);
});
