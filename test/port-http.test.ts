import * as http from "node:http";
import { gunzipSync } from "node:zlib";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { compressionGzip, createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VERSION } from "../core/version.js";
import { AdminService } from "../gen/disio/v1/admin_service_pb.js";
import { DistributorService } from "../gen/disio/v1/distributor_service_pb.js";
import { RPC_CALLS_METRIC, RPC_DURATION_METRIC } from "../server/index.js";
import { ADMIN_TOKEN, SLOW_CALL_MS, startPortFixture, type PortFixture } from "./port-fixture.js";

const auth = { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } };

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function request(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((ok, fail) => {
    const req = http.request(url, { method: init.method ?? "GET", headers: init.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => ok({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", fail);
    req.end(init.body);
  });
}

describe("plain HTTP on the RPC port", () => {
  let fx: PortFixture;
  beforeAll(async () => {
    fx = await startPortFixture();
  });
  afterAll(async () => {
    await fx.server.close({ graceMs: 100 });
  });

  it("GET /healthz → 200 ok, 503 when unhealthy, with the reason when one is given", async () => {
    const ok = await request(`${fx.server.url}/healthz`);
    expect(ok.status).toBe(200);
    expect(ok.body.toString()).toBe("ok\n");
    fx.health.ok = false;
    try {
      const unhealthy = await request(`${fx.server.url}/healthz`);
      expect(unhealthy.status).toBe(503);
      expect(unhealthy.body.toString()).toBe("unhealthy\n");
      fx.health.ok = { unhealthy: "store full: database or disk is full" };
      const withReason = await request(`${fx.server.url}/healthz`);
      expect(withReason.status).toBe(503);
      expect(withReason.body.toString()).toBe("unhealthy: store full: database or disk is full\n");
    } finally {
      fx.health.ok = true;
    }
  });

  it("GET /metrics counts RPCs by service, method and code", async () => {
    const client = createClient(AdminService, createConnectTransport({ baseUrl: fx.server.url, httpVersion: "1.1" }));
    await client.getInfo({}, auth);
    await client.getInfo({}, auth);
    await client.getInfo({}).catch(() => undefined);
    const reply = await request(`${fx.server.url}/metrics`);
    expect(reply.status).toBe(200);
    expect(reply.headers["content-type"]).toContain("text/plain");
    const text = reply.body.toString();
    const ok = text.match(new RegExp(`^${RPC_CALLS_METRIC}\\{service="disio.v1.AdminService",method="GetInfo",code="OK"\\} (\\d+)$`, "m"));
    expect(Number(ok?.[1])).toBeGreaterThanOrEqual(2);
    const denied = text.match(new RegExp(`^${RPC_CALLS_METRIC}\\{service="disio.v1.AdminService",method="GetInfo",code="Unauthenticated"\\} (\\d+)$`, "m"));
    expect(Number(denied?.[1])).toBeGreaterThanOrEqual(1);
    const count = text.match(new RegExp(`^${RPC_DURATION_METRIC}_count\\{service="disio.v1.AdminService",method="GetInfo"\\} (\\d+)$`, "m"));
    expect(Number(count?.[1])).toBeGreaterThanOrEqual(3);
  });

  it("answers a CORS preflight for a cors service, and not for others", async () => {
    const preflight = {
      method: "OPTIONS",
      headers: {
        Origin: "https://volunteer.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,connect-protocol-version",
      },
    };
    const yes = await request(`${fx.server.url}/disio.v1.DistributorService/GetInfo`, preflight);
    expect(yes.status).toBe(204);
    expect(yes.headers["access-control-allow-origin"]).toBe("*");
    expect(yes.headers["access-control-allow-methods"]).toContain("POST");
    expect(String(yes.headers["access-control-allow-headers"]).toLowerCase()).toContain("connect-protocol-version");

    const no = await request(`${fx.server.url}/disio.v1.AdminService/GetInfo`, preflight);
    expect(no.headers["access-control-allow-origin"]).toBeUndefined();
  });

  it("adds CORS headers to a cross-origin call of a cors service", async () => {
    const reply = await request(`${fx.server.url}/disio.v1.DistributorService/GetInfo`, {
      method: "POST",
      headers: { Origin: "https://volunteer.example", "Content-Type": "application/json", "Connect-Protocol-Version": "1" },
      body: "{}",
    });
    expect(reply.status).toBe(200);
    expect(reply.headers["access-control-allow-origin"]).toBe("*");
    expect(reply.headers["access-control-expose-headers"]).toContain("Grpc-Status");
    expect(JSON.parse(reply.body.toString())).toMatchObject({ distributorId: "d-test", version: VERSION });
  });

  it("serves static routes, exact and by prefix, and 404 elsewhere", async () => {
    const js = await request(`${fx.server.url}/client.js?v=1`);
    expect(js.status).toBe(200);
    expect(js.headers["content-type"]).toBe("text/javascript");
    expect(js.headers["cache-control"]).toBe("public, max-age=60");
    expect(js.body.toString()).toBe("export {};\n");

    const page = await request(`${fx.server.url}/panel/projects`);
    expect(page.status).toBe(200);
    expect(page.body.toString()).toBe("<p>/panel/projects</p>");

    expect((await request(`${fx.server.url}/panel/missing`)).status).toBe(404);
    expect((await request(`${fx.server.url}/nothing-here`)).status).toBe(404);
  });

  it("gzips a large response when the caller accepts gzip, and only then", async () => {
    const call = (acceptGzip: boolean) =>
      request(`${fx.server.url}/disio.v1.AdminService/ListProjects`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Authorization: `Bearer ${ADMIN_TOKEN}`,
          ...(acceptGzip ? { "Accept-Encoding": "gzip" } : {}),
        },
        body: JSON.stringify({ pageSize: 50 }),
      });
    const zipped = await call(true);
    expect(zipped.status).toBe(200);
    expect(zipped.headers["content-encoding"]).toBe("gzip");
    const projects = (JSON.parse(gunzipSync(zipped.body).toString()) as { projects: unknown[] }).projects;
    expect(projects).toHaveLength(50);

    const plain = await call(false);
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect((JSON.parse(plain.body.toString()) as { projects: unknown[] }).projects).toHaveLength(50);
  });

  it("accepts gzip-compressed requests (Connect and gRPC)", async () => {
    for (const transport of [
      createConnectTransport({ baseUrl: fx.server.url, httpVersion: "1.1", sendCompression: compressionGzip, compressMinBytes: 1 }),
      createGrpcTransport({ baseUrl: fx.server.url, sendCompression: compressionGzip, compressMinBytes: 1 }),
    ]) {
      const client = createClient(AdminService, transport);
      const res = await client.listProjects({ pageSize: 30 }, auth);
      expect(res.projects).toHaveLength(30);
    }
  });

  it("cors applies per service: DistributorService stays anonymous", async () => {
    const client = createClient(DistributorService, createConnectTransport({ baseUrl: fx.server.url, httpVersion: "1.1" }));
    expect((await client.getInfo({})).distributorId).toBe("d-test");
  });
});

describe("graceful shutdown", () => {
  it("lets an in-flight call finish, then refuses new connections", async () => {
    const fx = await startPortFixture();
    const client = createClient(AdminService, createConnectTransport({ baseUrl: fx.server.url, httpVersion: "1.1" }));
    const h2client = createClient(AdminService, createGrpcTransport({ baseUrl: fx.server.url }));
    await h2client.getInfo({}, auth); // an open, idle HTTP/2 session must not hold the close up
    const inFlight = client.listUnits({}, auth);
    const inFlightH2 = h2client.listUnits({}, auth);
    await new Promise((r) => setTimeout(r, 50));
    const started = Date.now();
    await fx.server.close({ graceMs: 5000 });
    const took = Date.now() - started;
    expect((await inFlight).nextPageToken).toBe("slow-done");
    expect((await inFlightH2).nextPageToken).toBe("slow-done");
    expect(took).toBeGreaterThanOrEqual(SLOW_CALL_MS - 100);
    expect(took).toBeLessThan(2500);
    await expect(request(`${fx.server.url}/healthz`)).rejects.toThrow(/ECONNREFUSED/);
  });

  it("ends open streams after graceMs and closes", async () => {
    const fx = await startPortFixture();
    for (const transport of [
      createConnectTransport({ baseUrl: fx.server.url, httpVersion: "1.1" }),
      createGrpcTransport({ baseUrl: fx.server.url }),
    ]) {
      const client = createClient(AdminService, transport);
      const stream = client.watchStats({}, auth)[Symbol.asyncIterator]();
      expect((await stream.next()).value?.stats?.connectedClients).toBe(1);
      const rest = stream.next().then(
        (r) => (r.done ? "ended" : "message"),
        (e: unknown) => Code[ConnectError.from(e).code],
      );
      (fx as { pending?: Promise<string>[] }).pending ??= [];
      (fx as { pending?: Promise<string>[] }).pending!.push(rest);
    }
    const started = Date.now();
    await fx.server.close({ graceMs: 200 });
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(2000);
    const outcomes = await Promise.all((fx as { pending?: Promise<string>[] }).pending!);
    expect(outcomes).toEqual(["Unavailable", "Unavailable"]);
  });
});
