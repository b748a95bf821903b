/**
 * What one request may cost the port before it is authenticated and while its body arrives: auth
 * from the headers before any body byte is read, a body limit per method, a budget of body bytes in
 * flight across all calls, and answers (not resets) in the protocol of the request.
 */
import * as http from "node:http";
import * as http2 from "node:http2";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { VERSION } from "../core/version.js";
import { AdminService } from "../gen/disio/v1/admin_service_pb.js";
import { ADMIN_TOKEN, startPortFixture, type PortFixture } from "./port-fixture.js";

const READ_MAX_BYTES = 64 * 1024;
const IN_FLIGHT_MAX_BYTES = 3 * READ_MAX_BYTES;
const CREATE_PROJECT = "/disio.v1.AdminService/CreateProject";
const JOIN = "/disio.v1.DistributorService/Join";
const auth = { Authorization: `Bearer ${ADMIN_TOKEN}` };

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * An HTTP/1.1 POST that declares `declared` body bytes (or none: chunked) and writes `send` of them
 * in 64 KiB chunks; resolves with the answer as soon as it arrives, whatever is still unsent.
 */
function post(url: string, headers: Record<string, string>, send: number, declared?: number): { reply: Promise<Reply>; req: http.ClientRequest } {
  const req = http.request(url, {
    method: "POST",
    agent: false,
    headers: { "content-type": "application/proto", ...headers, ...(declared === undefined ? {} : { "content-length": String(declared) }) },
  });
  const reply = new Promise<Reply>((ok, fail) => {
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => ok({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", fail);
  });
  const chunk = Buffer.alloc(64 * 1024, 0x0a);
  let left = send;
  const pump = (): void => {
    while (left > 0 && !req.destroyed) {
      const n = Math.min(left, chunk.length);
      left -= n;
      if (!req.write(chunk.subarray(0, n))) {
        req.once("drain", pump);
        return;
      }
    }
    if (declared === undefined && left === 0) req.end();
  };
  req.on("error", () => undefined);
  req.flushHeaders();
  pump();
  return { reply, req };
}

/** An h2c POST with the given headers and no body byte sent; resolves with its gRPC status. */
function grpcStatusOfHeadersOnly(url: string, path: string, headers: Record<string, string>): Promise<string | undefined> {
  return new Promise((ok, fail) => {
    const session = http2.connect(url);
    session.on("error", fail);
    const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers", ...headers });
    let status: string | undefined;
    stream.on("response", (h) => {
      status = h["grpc-status"] as string | undefined;
    });
    stream.on("trailers", (t) => {
      status = t["grpc-status"] as string | undefined;
    });
    // The server ends its half; the client never ends its own (it sends no body), so stop there.
    stream.on("end", () => {
      session.destroy();
      ok(status);
    });
    stream.on("error", () => undefined);
    stream.resume();
  });
}

function jsonCode(reply: Reply): string {
  return (JSON.parse(reply.body.toString()) as { code: string }).code;
}

let fx: PortFixture;
beforeAll(async () => {
  fx = await startPortFixture({ readMaxBytes: READ_MAX_BYTES, inFlightMaxBytes: IN_FLIGHT_MAX_BYTES });
});
afterAll(async () => {
  await fx.server.close({ graceMs: 100 });
});
beforeEach(() => {
  fx.logs.length = 0;
});

describe("request limits on the port", () => {
  it("a call without a token is refused from its headers, before any body byte arrives", async () => {
    const { reply, req } = post(`${fx.server.url}${CREATE_PROJECT}`, {}, 0, 50 * 1024 * 1024);
    const answer = await reply;
    req.destroy();
    expect(answer.status).toBe(401);
    expect(jsonCode(answer)).toBe("unauthenticated");
    expect(await grpcStatusOfHeadersOnly(fx.server.url, CREATE_PROJECT, {})).toBe(String(Code.Unauthenticated));
    expect(fx.logs.filter((l) => l.msg === "rpc failed").map((l) => l.code)).toEqual(["Unauthenticated", "Unauthenticated"]);
  });

  it("a declared body over the method's limit is refused before it is read: Join allows 8 KiB", async () => {
    const { reply, req } = post(`${fx.server.url}${JOIN}`, {}, 0, 9 * 1024);
    const answer = await reply;
    req.destroy();
    expect(answer.status).toBe(429);
    expect(jsonCode(answer)).toBe("resource_exhausted");
    const over = await grpcStatusOfHeadersOnly(fx.server.url, JOIN, { "content-length": String(9 * 1024) });
    expect(over).toBe(String(Code.ResourceExhausted));
  });

  it("a chunked body is counted as it streams: refused with an answer once past the limit", async () => {
    const { reply } = post(`${fx.server.url}${JOIN}`, {}, 1024 * 1024);
    const answer = await reply;
    expect(answer.status).toBe(429);
    expect(jsonCode(answer)).toBe("resource_exhausted");
    const lines = fx.logs.filter((l) => l.msg === "rpc refused" && l.grpcStatus === undefined);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, service: "disio.v1.DistributorService", method: "Join", httpStatus: 429 });
  });

  for (const declared of [true, false]) {
    it(`a 100 MB body ${declared ? "with" : "without"} Content-Length to a 64 MiB limit gets ResourceExhausted, not a reset`, async () => {
      const big = await startPortFixture({ readMaxBytes: 64 * 1024 * 1024 });
      try {
        const size = 100 * 1024 * 1024;
        const { reply, req } = post(`${big.server.url}${CREATE_PROJECT}`, auth, size, declared ? size : undefined);
        const answer = await reply;
        req.destroy();
        expect(answer.status).toBe(429);
        expect(jsonCode(answer)).toBe("resource_exhausted");
        const client = createClient(AdminService, createConnectTransport({ baseUrl: big.server.url, httpVersion: "1.1" }));
        expect((await client.getInfo({}, { headers: auth })).version).toBe(VERSION);
      } finally {
        await big.server.close({ graceMs: 100 });
      }
    });
  }

  it("past the in-flight budget calls get ResourceExhausted in their protocol; the budget frees when calls end", async () => {
    // Three authenticated calls that declare the largest body and send none hold the whole budget.
    const holders = [0, 1, 2].map(() => post(`${fx.server.url}${CREATE_PROJECT}`, auth, 1, READ_MAX_BYTES));
    const connect = createClient(AdminService, createConnectTransport({ baseUrl: fx.server.url, httpVersion: "1.1" }));
    const grpc = createClient(AdminService, createGrpcTransport({ baseUrl: fx.server.url }));
    await waitUntil(async () => (await codeOf(connect.createProject({ name: "x", programSource: "y" }, { headers: auth }))) === Code.ResourceExhausted);
    expect(await codeOf(grpc.createProject({ name: "x", programSource: "y" }, { headers: auth }))).toBe(Code.ResourceExhausted);
    for (const h of holders) {
      h.reply.catch(() => undefined);
      h.req.destroy();
    }
    await waitUntil(async () => (await codeOf(connect.createProject({ name: "x", programSource: "y" }, { headers: auth }))) === Code.Unimplemented);
    expect(await codeOf(grpc.createProject({ name: "x", programSource: "y" }, { headers: auth }))).toBe(Code.Unimplemented);
  });
});

async function codeOf(call: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await call;
    return "ok";
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("timed out waiting for a condition");
    await new Promise((r) => setTimeout(r, 20));
  }
}
