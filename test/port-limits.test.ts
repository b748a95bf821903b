/**
 * What one request may cost the port before it is authenticated and while its body arrives: auth
 * from the headers before any body byte is read, a body limit per method, a budget of body bytes in
 * flight across all calls, and answers (not resets) in the protocol of the request.
 */
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
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

describe("connection limits on the port", () => {
  const IDLE_MS = 500;
  const REQUEST_MS = 800;
  const PER_ADDRESS = 3;
  let lx: PortFixture;
  beforeAll(async () => {
    lx = await startPortFixture({ http2IdleTimeoutMs: IDLE_MS, requestTimeoutMs: REQUEST_MS, maxConnectionsPerAddress: PER_ADDRESS });
  });
  afterAll(async () => {
    await lx.server.close({ graceMs: 100 });
  });

  /** Opens a raw TCP connection (from `localAddress`), writes `bytes`, resolves when the server closes it. */
  async function rawConnection(bytes: Buffer, localAddress = "127.0.0.1"): Promise<{ closed: Promise<number>; socket: net.Socket }> {
    const socket = net.connect({ port: lx.server.port, host: "127.0.0.1", localAddress });
    socket.on("error", () => undefined);
    socket.resume();
    await new Promise((r) => socket.once("connect", r));
    const opened = Date.now();
    const closed = new Promise<number>((r) => socket.once("close", () => r(Date.now() - opened)));
    socket.write(bytes);
    return { closed, socket };
  }

  const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
  const emptySettings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
  const idle: [string, Buffer][] = [
    ["only the HTTP/2 preface", preface],
    ["the preface and SETTINGS", Buffer.concat([preface, emptySettings])],
    // HEADERS on stream 1 without END_HEADERS, never continued.
    ["a HEADERS frame that never completes", Buffer.concat([preface, emptySettings, Buffer.from([0, 0, 1, 1, 0, 0, 0, 0, 1, 0x83])])],
  ];
  for (const [name, bytes] of idle) {
    it(`an HTTP/2 connection that sends ${name} is closed after the idle timeout`, async () => {
      const { closed } = await rawConnection(bytes);
      const after = await Promise.race([closed, sleep(IDLE_MS * 4).then(() => -1)]);
      expect(after).toBeGreaterThanOrEqual(IDLE_MS - 50);
      expect(after).toBeLessThanOrEqual(IDLE_MS * 3);
    });
  }

  it("a stream whose request body does not end in time is reset", async () => {
    const session = http2.connect(lx.server.url);
    session.on("error", () => undefined);
    try {
      const stream = session.request({ ":method": "POST", ":path": CREATE_PROJECT, "content-type": "application/grpc", ...auth });
      stream.on("error", () => undefined);
      stream.resume();
      stream.write(Buffer.from([0, 0, 0, 0, 10]));
      const rst = await new Promise<number>((r) => stream.once("close", () => r(stream.rstCode ?? -1)));
      expect(rst).toBe(http2.constants.NGHTTP2_CANCEL);
    } finally {
      session.destroy();
    }
  });

  it("an open server stream outlives the idle and request timeouts", async () => {
    const client = createClient(AdminService, createGrpcTransport({ baseUrl: lx.server.url }));
    const abort = new AbortController();
    const it = client.watchStats({}, { headers: auth, signal: abort.signal })[Symbol.asyncIterator]();
    expect((await it.next()).value?.stats?.connectedClients).toBe(1);
    const next = it.next().then(
      () => "message",
      (e: unknown) => ConnectError.from(e).code,
    );
    expect(await Promise.race([next, sleep(3 * REQUEST_MS).then(() => "still open")])).toBe("still open");
    abort.abort();
    expect(await next).toBe(Code.Canceled);
  });

  it("connections past the per-address cap are closed at once; other addresses are still served", async () => {
    const held = await Promise.all([1, 2, 3].map(() => rawConnection(Buffer.alloc(0), "127.0.0.2")));
    const extra = await rawConnection(Buffer.alloc(0), "127.0.0.2");
    expect(await Promise.race([extra.closed, sleep(REQUEST_MS).then(() => -1)])).toBeGreaterThanOrEqual(0);
    expect(held.length).toBe(PER_ADDRESS);
    const client = createClient(AdminService, createConnectTransport({ baseUrl: lx.server.url, httpVersion: "1.1" }));
    expect((await client.getInfo({}, { headers: auth })).version).toBe(VERSION);
    for (const h of held) h.socket.destroy();
    // Once the server has seen those close, the address may connect again.
    await waitUntil(async () => {
      const again = await rawConnection(Buffer.alloc(0), "127.0.0.2");
      const outcome = await Promise.race([again.closed.then(() => "closed"), sleep(100).then(() => "open")]);
      again.socket.destroy();
      return outcome === "open";
    });
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

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
