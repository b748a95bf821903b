import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DistributorService } from "../gen/disio/v1/distributor_service_pb.js";
import { UnitState, type Task } from "../gen/disio/v1/common_pb.js";
import { createAdminClient } from "../cli/admin-client.js";
import { startDistributor, type RunningDistributor } from "../distributor/index.js";
import { startManager, type RunningManager } from "../manager/index.js";
import { waitFor } from "../bench/grid-fixture.js";
import { joinRetrying } from "./join-retrying.js";

const log = pino({ level: "silent" });
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const UNITS_PER_CODEC = 5;

/**
 * Tasks reach clients that speak the JSON codec: the distributor forwards tasks as the manager
 * encoded them (unknown fields of the Work message, which the binary codec copies through), so a
 * JSON Work stream must carry them as real `tasks` fields.
 */
describe("a Work stream over a JSON codec", () => {
  let dir = "";
  let manager: RunningManager;
  let distributor: RunningDistributor;
  let projectId = "";

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "disio-json-work-"));
    manager = await startManager({ dataDir: join(dir, "manager"), port: 0, log, sweepIntervalMs: 200 });
    const admin = createAdminClient({ manager: manager.url, token: manager.adminToken });
    const { project } = await admin.createProject({ name: "json", programSource: "export default (x) => x" });
    projectId = project!.id;
    await admin.addUnits({
      projectId,
      units: Array.from({ length: 2 * UNITS_PER_CODEC }, (_, n) => ({ input: encoder.encode(JSON.stringify({ n })) })),
    });
    const { token } = await admin.createDistributor({ name: "edge" });
    distributor = await startDistributor({
      port: 0,
      managerUrls: [manager.url],
      token,
      dataDir: join(dir, "distributor"),
      log,
      leaseWaitMs: 200,
      flushIntervalMs: 50,
      heartbeatIntervalMs: 100,
      closeGraceMs: 500,
    });
  });
  afterAll(async () => {
    await distributor?.close({ graceMs: 200 });
    await manager?.close({ graceMs: 200 });
    rmSync(dir, { recursive: true, force: true });
  });

  const codecs: [string, () => Transport][] = [
    ["Connect JSON", () => createConnectTransport({ baseUrl: distributor.url, httpVersion: "1.1", useBinaryFormat: false })],
    ["gRPC-Web JSON", () => createGrpcWebTransport({ baseUrl: distributor.url, httpVersion: "1.1", useBinaryFormat: false })],
  ];
  for (const [name, transport] of codecs) {
    it(`${name}: receives tasks with copy ids and inputs, reports them, and they complete`, async () => {
      const client = createClient(DistributorService, transport());
      const { sessionToken } = await joinRetrying(client);
      const headers = { authorization: `Bearer ${sessionToken}` };
      const stream = new AbortController();
      const received: Task[] = [];
      const reading = (async () => {
        try {
          for await (const batch of client.work({ slots: UNITS_PER_CODEC }, { headers, signal: stream.signal })) {
            received.push(...batch.tasks);
            if (received.length >= UNITS_PER_CODEC) break;
          }
        } catch (error) {
          if (!stream.signal.aborted) throw error;
        }
      })();
      await waitFor(`${UNITS_PER_CODEC} tasks over ${name}`, () => Promise.resolve(received.length >= UNITS_PER_CODEC), 10_000);
      stream.abort();
      await reading;

      expect(received).toHaveLength(UNITS_PER_CODEC);
      for (const task of received) {
        expect(task.copyId).not.toBe("");
        expect(task.projectId).toBe(projectId);
        expect(decoder.decode(task.input)).toMatch(/^\{"n":\d+\}$/);
        expect(task.deadline).toBeDefined();
      }
      const answer = await client.report(
        {
          results: received.map((task) => ({
            copyId: task.copyId,
            unitId: task.unitId,
            outcome: { case: "output" as const, value: task.input },
          })),
        },
        { headers },
      );
      expect(answer.accepted).toBe(UNITS_PER_CODEC);

      const admin = createAdminClient({ manager: manager.url, token: manager.adminToken });
      await waitFor(
        `${name} results at the manager`,
        async () => {
          const { units } = await admin.listUnits({ projectId, pageSize: 100 });
          return received.every((task) => units.some((u) => u.id === task.unitId && u.state === UnitState.DONE));
        },
        10_000,
      );
    });
  }
});
