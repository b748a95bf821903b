/**
 * A one-port server with small TEST implementations of AdminService and DistributorService (the
 * real ones live in manager/ and distributor/), shared by the `one-port*` and `port-*` tests.
 */
import { Writable } from "node:stream";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import { pino } from "pino";
import { NotFoundError, UnauthenticatedError } from "../core/errors.js";
import { VERSION } from "../core/version.js";
import { AdminService, GetStatsResponseSchema, ProjectSchema } from "../gen/disio/v1/admin_service_pb.js";
import { DistributorService } from "../gen/disio/v1/distributor_service_pb.js";
import { principalKey, startServer, type Health, type RunningServer, type ServerOptions } from "../server/index.js";

/** The admin token the fixture accepts. */
export const ADMIN_TOKEN = "s3cret-admin-token";

/** How long ListUnits takes, to hold a call in flight during shutdown. */
export const SLOW_CALL_MS = 300;

/** One parsed pino line. */
export type LogLine = Record<string, unknown> & { level: number; msg: string };

/** A running fixture server with its captured log lines. */
export interface PortFixture {
  server: RunningServer;
  logs: LogLine[];
  /** What `/healthz` reports. */
  health: { ok: Health };
}

function testRoutes(router: ConnectRouter): void {
  router.service(AdminService, {
    getInfo(_req, ctx) {
      const principal = ctx.values.get(principalKey) as { who: string } | undefined;
      return {
        version: VERSION,
        managerId: principal?.who ?? "anonymous",
        store: "test",
        serverTime: timestampFromMs(Date.now()),
      };
    },
    getProject(req) {
      if (req.id === "boom") throw new Error("disk on fire at /var/secret");
      throw new NotFoundError("project", req.id);
    },
    listProjects(req) {
      // Large enough to be gzipped when the caller accepts it.
      const projects = [];
      for (let i = 0; i < Math.max(1, req.pageSize); i++) {
        projects.push(create(ProjectSchema, { id: `p${i}`, name: `project number ${i} `.repeat(4) }));
      }
      return { projects };
    },
    async listUnits() {
      await new Promise((r) => setTimeout(r, SLOW_CALL_MS));
      return { nextPageToken: "slow-done" };
    },
    async getStats(_req, ctx) {
      // Never answers: ends only when the call's signal aborts (deadline, cancel, shutdown).
      await new Promise<void>((_resolve, reject) => {
        ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason as Error), { once: true });
      });
      return {};
    },
    async *watchStats(_req, ctx) {
      yield { stats: create(GetStatsResponseSchema, { connectedClients: 1 }) };
      await new Promise<void>((_resolve, reject) => {
        ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason as Error), { once: true });
      });
    },
  });
  router.service(DistributorService, {
    getInfo() {
      return { distributorId: "d-test", version: VERSION };
    },
  });
}

/** Starts the fixture server on 127.0.0.1 with a free port. */
export async function startPortFixture(overrides: Partial<ServerOptions> = {}): Promise<PortFixture> {
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line !== "") logs.push(JSON.parse(line) as LogLine);
      }
      done();
    },
  });
  const health = { ok: true };
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    routes: testRoutes,
    log: pino({ level: "debug" }, sink),
    healthy: () => health.ok,
    policies: [
      {
        service: AdminService.typeName,
        authenticate: ({ token }) => {
          if (token === undefined) throw new UnauthenticatedError("missing bearer token");
          if (token !== ADMIN_TOKEN) throw new UnauthenticatedError("token not accepted");
          return { who: "admin" };
        },
      },
      { service: DistributorService.typeName, cors: true },
    ],
    staticRoutes: [
      { path: "/client.js", serve: () => ({ body: "export {};\n", contentType: "text/javascript", cacheSeconds: 60 }) },
      {
        path: "/panel/",
        serve: (path) =>
          path === "/panel/missing" ? undefined : { body: `<p>${path}</p>`, contentType: "text/html; charset=utf-8" },
      },
    ],
    ...overrides,
  });
  return { server, logs, health };
}

/** Log lines written by the server for failed calls. */
export function failedCallLogs(logs: LogLine[]): LogLine[] {
  return logs.filter((l) => l.msg === "rpc failed");
}
