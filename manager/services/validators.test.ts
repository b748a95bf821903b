import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, createRouterTransport, type Interceptor } from "@connectrpc/connect";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AdminService } from "../../gen/disio/v1/admin_service_pb.js";
import { Outcome, UnitState } from "../../gen/disio/v1/common_pb.js";
import { ManagerService } from "../../gen/disio/v1/manager_service_pb.js";
import { createErrorInterceptor } from "../../server/error-interceptor.js";
import { principalKey } from "../../server/index.js";
import { DEFAULT_LIMITS, type ManagerContext } from "../manager-context.js";
import { managerRoutes } from "../routes.js";
import { loadOrCreateSigningKey } from "../signing-key.js";
import { openManagerStore } from "../store/open-manager-store.js";
import type { ManagerStore } from "../store/store.js";
import { StoreHealth } from "../../core/store-health.js";
import { ThroughputMeter } from "../throughput-meter.js";
import { ValidationQueue } from "../validation-queue.js";
import { ValidatorPool } from "../validator-pool.js";

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const TOLERANT = "export default (x) => x; export function validate(a, b) { return Math.abs(a.v - b.v) < 1e-9; }";

/** Projects with `validate` exports, over the services in memory with a real store, pool and queue. */
describe("validators (replication 2, quorum 2)", () => {
  let dir: string;
  let store: ManagerStore;
  let pool: ValidatorPool;
  let queue: ValidationQueue;
  let ctx: ManagerContext;
  const errors: Array<Record<string, unknown>> = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "disio-validators-"));
    store = await openManagerStore({ dataDir: dir, health: new StoreHealth(), log: pino({ level: "silent" }) });
    pool = new ValidatorPool({ timeoutMs: 500 });
    errors.length = 0;
    const log = pino({ level: "error" }, { write: (line: string) => void errors.push(JSON.parse(line) as Record<string, unknown>) });
    queue = new ValidationQueue({ store, pool, log, now: Date.now });
    ctx = {
      store,
      signer: loadOrCreateSigningKey(dir),
      managerId: "m-test",
      groupId: "g-test",
      limits: DEFAULT_LIMITS,
      meter: new ThroughputMeter(),
      metrics: { unitsLeased: () => {}, resultsReported: () => {} },
      log,
      now: Date.now,
      stopping: new AbortController().signal,
      validators: pool,
      validations: queue,
    };
  });
  afterEach(async () => {
    await queue.stop();
    pool.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function clients(distributorId = "") {
    const asDistributor: Interceptor = (next) => (req) => {
      req.contextValues.set(principalKey, { distributorId });
      return next(req);
    };
    const transport = createRouterTransport(managerRoutes(ctx), { router: { interceptors: [createErrorInterceptor(pino({ level: "silent" })), asDistributor] } });
    return { admin: createClient(AdminService, transport), manager: createClient(ManagerService, transport) };
  }

  /** A project of `units` units with `programSource`; both copies of each unit leased and reported by two clients with `outputs(n)`. */
  async function computed(name: string, programSource: string, outputs: (n: number) => [unknown, unknown], units = 3) {
    const { admin } = clients();
    const { project } = await admin.createProject({ name, programSource, replication: 2, quorum: 2 });
    const { unitIds } = await admin.addUnits({ projectId: project!.id, units: Array.from({ length: units }, (_, n) => ({ input: json(n) })) });
    const { distributor } = await admin.createDistributor({ name: `edge-${name}` });
    const { manager } = clients(distributor!.id);
    const first = await manager.lease({ maxCopies: units });
    const second = await manager.lease({ maxCopies: units });
    const report = (tasks: typeof first.tasks, which: 0 | 1) =>
      manager.report({
        results: tasks.map((t) => ({
          copyId: t.copyId,
          clientId: `s-${which}`,
          clientKey: `k-client-${which}`,
          outcome: { case: "output" as const, value: json(outputs(unitIds.indexOf(t.unitId))[which]) },
        })),
      });
    await report(first.tasks, 0);
    await report(second.tasks, 1);
    await queue.idle();
    return { project: project!, unitIds, admin };
  }

  it("tells has_validator at CreateProject", async () => {
    const { admin } = clients();
    expect((await admin.createProject({ name: "with", programSource: TOLERANT })).project!.hasValidator).toBe(true);
    expect((await admin.createProject({ name: "without", programSource: "export default (x) => x;" })).project!.hasValidator).toBe(false);
  });

  it("agrees on floats differing by 1e-12 through validate: done, no copy invalid, both clients validated", async () => {
    const { unitIds, admin } = await computed("floats", TOLERANT, (n) => [{ v: n / 3 }, { v: n / 3 + 1e-12 }]);
    for (const id of unitIds) {
      const { unit } = await admin.getUnit({ id });
      expect(unit!.state, id).toBe(UnitState.DONE);
      expect(unit!.copiesSent).toBe(2);
      expect(unit!.copies.map((c) => c.outcome)).toEqual([Outcome.OK, Outcome.OK]);
      expect(unit!.selfAgreement).toBe(false);
    }
    const { clients: trusted } = await admin.listClients({});
    expect(trusted.map((c) => [c.clientKey, c.trust])).toEqual([["k-client-0", 3n], ["k-client-1", 3n]].sort() as Array<[string, bigint]>);
  });

  it("keeps differing outputs apart when validate says so: the unit asks for a third copy instead", async () => {
    const { unitIds, admin } = await computed("apart", TOLERANT, (n) => [{ v: n }, { v: n + 1 }], 1);
    const { unit } = await admin.getUnit({ id: unitIds[0]! });
    expect(unit!.state).toBe(UnitState.QUEUED);
    const { projects } = await admin.getStats({ projectId: unit!.projectId });
    expect(projects[0]!.counts!.queued).toBe(1n);
  });

  it("fails a throwing and a spinning validator's units with the reason, logged once per project, while another project's validator keeps working", async () => {
    const throwing = await computed("throws", "export default (x) => x; export function validate() { throw new Error('no idea'); }", (n) => [n, n + 0.5]);
    const spinning = await computed("spins", "export default (x) => x; export function validate() { for (;;); }", (n) => [n, n + 0.5]);
    const fine = await computed("fine", TOLERANT, (n) => [{ v: n }, { v: n + 1e-12 }]);
    for (const { unitIds, admin } of [throwing, spinning]) {
      for (const id of unitIds) {
        const { unit } = await admin.getUnit({ id });
        expect(unit!.state, id).toBe(UnitState.FAILED);
        expect(unit!.error).toMatch(/^validator failed: (validate threw: no idea|no answer within 500 ms)$/);
      }
    }
    for (const id of fine.unitIds) expect((await fine.admin.getUnit({ id })).unit!.state).toBe(UnitState.DONE);
    const logged = errors.filter((e) => e.msg === "project validator failed: its units fail").map((e) => [e.projectId, e.err]);
    expect(logged).toEqual([
      [throwing.project.id, "validator failed: validate threw: no idea"],
      [spinning.project.id, "validator failed: no answer within 500 ms"],
    ]);
  });
});
