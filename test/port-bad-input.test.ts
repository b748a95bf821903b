import * as net from "node:net";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { VERSION } from "../core/version.js";
import { AdminService } from "../gen/disio/v1/admin_service_pb.js";
import { ManagerService } from "../gen/disio/v1/manager_service_pb.js";
import { ADMIN_TOKEN, failedCallLogs, startPortFixture, type PortFixture } from "./port-fixture.js";

const READ_MAX_BYTES = 4096;
const auth = { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } };

let fx: PortFixture;
beforeAll(async () => {
  fx = await startPortFixture({ readMaxBytes: READ_MAX_BYTES });
});
afterAll(async () => {
  await fx.server.close({ graceMs: 100 });
});
beforeEach(() => {
  fx.logs.length = 0;
});

const protocols: [string, () => Transport][] = [
  ["Connect/1.1", () => createConnectTransport({ baseUrl: fx.server.url, httpVersion: "1.1" })],
  ["gRPC-Web/1.1", () => createGrpcWebTransport({ baseUrl: fx.server.url, httpVersion: "1.1" })],
  ["gRPC/h2c", () => createGrpcTransport({ baseUrl: fx.server.url })],
];

async function codeOf(call: Promise<unknown>): Promise<Code> {
  try {
    await call;
  } catch (error) {
    return ConnectError.from(error).code;
  }
  throw new Error("the call succeeded");
}

describe("bad input on the port", () => {
  for (const [name, transport] of protocols) {
    describe(name, () => {
      it("an oversized message → ResourceExhausted", async () => {
        const client = createClient(AdminService, transport());
        const code = await codeOf(client.createProject({ name: "x", programSource: "y".repeat(READ_MAX_BYTES * 2) }, auth));
        expect(code).toBe(Code.ResourceExhausted);
        // Refused by connect before any interceptor ran: still one log line and a count.
        const lines = fx.logs.filter((l) => l.msg === "rpc refused");
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatchObject({ level: 40, service: "disio.v1.AdminService", method: "CreateProject" });
        if (name === "gRPC/h2c") expect(lines[0]?.grpcStatus).toBe(Code.ResourceExhausted);
        if (name === "Connect/1.1") expect(lines[0]?.httpStatus).toBe(429);
        const metrics = await (await fetch(`${fx.server.url}/metrics`)).text();
        expect(metrics).toMatch(/^disio_rpc_refused_total\{service="disio.v1.AdminService",method="CreateProject"\} [1-9]/m);
      });

      it("a missing bearer token → Unauthenticated, logged once as a warning", async () => {
        const client = createClient(AdminService, transport());
        expect(await codeOf(client.getInfo({}))).toBe(Code.Unauthenticated);
        const lines = failedCallLogs(fx.logs);
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatchObject({
          level: 40,
          service: "disio.v1.AdminService",
          method: "GetInfo",
          code: "Unauthenticated",
          reason: "missing bearer token",
        });
      });

      it("a wrong bearer token → Unauthenticated", async () => {
        const client = createClient(AdminService, transport());
        const code = await codeOf(client.getInfo({}, { headers: { Authorization: "Bearer nope" } }));
        expect(code).toBe(Code.Unauthenticated);
      });

      it("a token in another scheme → Unauthenticated", async () => {
        const client = createClient(AdminService, transport());
        const code = await codeOf(client.getInfo({}, { headers: { Authorization: `Basic ${ADMIN_TOKEN}` } }));
        expect(code).toBe(Code.Unauthenticated);
      });

      it("an unknown method → Unimplemented", async () => {
        const client = createClient(ManagerService, transport());
        expect(await codeOf(client.getInfo({}))).toBe(Code.Unimplemented);
      });

      it("a deadline shorter than the handler → DeadlineExceeded, promptly", async () => {
        const client = createClient(AdminService, transport());
        const started = Date.now();
        const code = await codeOf(client.getStats({}, { ...auth, timeoutMs: 150 }));
        expect(code).toBe(Code.DeadlineExceeded);
        expect(Date.now() - started).toBeLessThan(3000);
      });

      it("a domain error keeps its code and message", async () => {
        const client = createClient(AdminService, transport());
        const error = await client.getProject({ id: "p-404" }, auth).then(
          () => undefined,
          (e: unknown) => ConnectError.from(e),
        );
        expect(error?.code).toBe(Code.NotFound);
        expect(error?.rawMessage).toBe('project "p-404" not found');
      });

      it("an unexpected error → Internal with a generic message, logged once as an error", async () => {
        const client = createClient(AdminService, transport());
        const error = await client.getProject({ id: "boom" }, auth).then(
          () => undefined,
          (e: unknown) => ConnectError.from(e),
        );
        expect(error?.code).toBe(Code.Internal);
        expect(error?.rawMessage).toBe("internal error");
        expect(error?.message).not.toContain("secret");
        const lines = failedCallLogs(fx.logs);
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatchObject({ level: 50, method: "GetProject", code: "Internal" });
        expect(JSON.stringify(lines[0])).toContain("disk on fire");
      });
    });
  }

  it("JSON that does not parse → InvalidArgument (HTTP 400), logged once as refused and counted", async () => {
    const response = await fetch(`${fx.server.url}/disio.v1.AdminService/GetInfo`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}` },
      body: "{not json",
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "invalid_argument" });
    const lines = fx.logs.filter((l) => l.msg === "rpc refused");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, service: "disio.v1.AdminService", method: "GetInfo", httpStatus: 400 });
    const metrics = await (await fetch(`${fx.server.url}/metrics`)).text();
    expect(metrics).toMatch(/^disio_rpc_refused_total\{service="disio.v1.AdminService",method="GetInfo"\} 1$/m);
  });

  it("@grpc/grpc-js: an unknown method → UNIMPLEMENTED", async () => {
    const client = new grpc.Client(`127.0.0.1:${fx.server.port}`, grpc.credentials.createInsecure());
    try {
      const status = await new Promise<grpc.ServiceError>((ok, fail) => {
        client.makeUnaryRequest(
          "/disio.v1.NoSuchService/Nope",
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.alloc(0),
          (err) => (err ? ok(err) : fail(new Error("the call succeeded"))),
        );
      });
      expect(status.code).toBe(grpc.status.UNIMPLEMENTED);
    } finally {
      client.close();
    }
  });

  it("a successful call logs nothing", async () => {
    const client = createClient(AdminService, createConnectTransport({ baseUrl: fx.server.url, httpVersion: "1.1" }));
    await client.getInfo({}, auth);
    expect(fx.logs.filter((l) => l.level >= 30)).toEqual([]);
  });

  const garbage: [string, Buffer][] = [
    ["random bytes", Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x00, 0xff, 0x13, 0x37, 0x0d, 0x0a, 0x0d, 0x0a])],
    ["the HTTP/2 preface followed by junk frames", Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Buffer.alloc(64, 0xff)])],
    ["a broken HTTP/1 request line", Buffer.from("GARBAGE\0\0\0 nonsense\r\n\r\n")],
  ];
  for (const [name, bytes] of garbage) {
    it(`${name} → that connection closes, the server keeps serving`, async () => {
      const socket = net.connect(fx.server.port, "127.0.0.1");
      socket.on("error", () => undefined);
      socket.resume();
      await new Promise((r) => socket.once("connect", r));
      const closed = new Promise<void>((r) => socket.once("close", () => r()));
      socket.write(bytes);
      await expect(Promise.race([closed.then(() => "closed"), sleep(3000).then(() => "still open")])).resolves.toBe("closed");

      const client = createClient(AdminService, createConnectTransport({ baseUrl: fx.server.url, httpVersion: "1.1" }));
      expect((await client.getInfo({}, auth)).version).toBe(VERSION);
      const h2 = createClient(AdminService, createGrpcTransport({ baseUrl: fx.server.url }));
      expect((await h2.getInfo({}, auth)).version).toBe(VERSION);
    });
  }
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
