/**
 * A request body that is not valid binary protobuf is the caller's fault: InvalidArgument in every
 * protocol (connect-es itself says Internal), logged once as a warning, and the port keeps serving.
 */
import * as grpc from "@grpc/grpc-js";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { VERSION } from "../core/version.js";
import { AdminService } from "../gen/disio/v1/admin_service_pb.js";
import { ADMIN_TOKEN, startPortFixture, type PortFixture } from "./port-fixture.js";

const bodies: [string, number[]][] = [
  ["a string field longer than the body", [0x0a, 0x05, 0x6e]],
  ["wire type 7", [0x0f]],
  ["a length varint of eleven bytes", [0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
  ["field number 0", [0x00, 0x01]],
  ["an end-group tag with no group", [0x0c]],
  ["a truncated tag", [0x80]],
];

const calls: [string, string, Record<string, string>][] = [
  ["Join (anonymous)", "/disio.v1.DistributorService/Join", {}],
  ["GetProject (authenticated)", "/disio.v1.AdminService/GetProject", { authorization: `Bearer ${ADMIN_TOKEN}` }],
];

function envelope(bytes: Uint8Array): Blob {
  const head = new Uint8Array(5);
  new DataView(head.buffer).setUint32(1, bytes.length);
  return new Blob([head, bytes as Uint8Array<ArrayBuffer>]);
}

/** The grpc-status of a gRPC-Web response body's trailer frame. */
function grpcWebStatus(body: Buffer): string | undefined {
  for (let at = 0; at + 5 <= body.length; ) {
    const length = body.readUInt32BE(at + 1);
    if (body[at] === 0x80) return /grpc-status: *(\d+)/.exec(body.subarray(at + 5, at + 5 + length).toString())?.[1];
    at += 5 + length;
  }
  return undefined;
}

let fx: PortFixture;
beforeAll(async () => {
  fx = await startPortFixture();
});
afterAll(async () => {
  await fx.server.close({ graceMs: 100 });
});
beforeEach(() => {
  fx.logs.length = 0;
});

describe("undecodable binary request bodies", () => {
  for (const [callName, path, headers] of calls) {
    for (const [bodyName, bytes] of bodies) {
      const body = new Uint8Array(bytes);
      it(`${callName}, ${bodyName}: Connect → 400 invalid_argument`, async () => {
        const res = await fetch(`${fx.server.url}${path}`, { method: "POST", headers: { "content-type": "application/proto", ...headers }, body });
        expect(res.status).toBe(400);
        expect(await res.json()).toMatchObject({ code: "invalid_argument" });
        expect(fx.logs.filter((l) => l.level >= 50)).toEqual([]);
        expect(fx.logs.filter((l) => l.msg === "rpc refused" || l.msg === "rpc failed")).toHaveLength(1);
      });

      it(`${callName}, ${bodyName}: gRPC-Web → grpc-status 3`, async () => {
        const res = await fetch(`${fx.server.url}${path}`, {
          method: "POST",
          headers: { "content-type": "application/grpc-web+proto", ...headers },
          body: envelope(body),
        });
        expect(res.status).toBe(200);
        expect(grpcWebStatus(Buffer.from(await res.arrayBuffer()))).toBe("3");
      });

      it(`${callName}, ${bodyName}: gRPC → INVALID_ARGUMENT`, async () => {
        const client = new grpc.Client(`127.0.0.1:${fx.server.port}`, grpc.credentials.createInsecure());
        try {
          const metadata = new grpc.Metadata();
          for (const [k, v] of Object.entries(headers)) metadata.set(k, v);
          const status = await new Promise<grpc.ServiceError>((ok, fail) => {
            client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, Buffer.from(body), metadata, (err) =>
              err ? ok(err) : fail(new Error("the call succeeded")),
            );
          });
          expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
        } finally {
          client.close();
        }
      });
    }
  }

  it("a server stream's undecodable request → invalid_argument in the end-of-stream message, logged as a warning", async () => {
    const res = await fetch(`${fx.server.url}/disio.v1.AdminService/WatchStats`, {
      method: "POST",
      headers: { "content-type": "application/connect+proto", authorization: `Bearer ${ADMIN_TOKEN}` },
      body: envelope(new Uint8Array([0x0f])),
    });
    const body = Buffer.from(await res.arrayBuffer());
    expect(body[0]).toBe(0x02);
    expect(JSON.parse(body.subarray(5).toString())).toMatchObject({ error: { code: "invalid_argument" } });
    const lines = fx.logs.filter((l) => l.msg === "rpc failed");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, method: "WatchStats", code: "InvalidArgument" });
  });

  it("the port keeps serving", async () => {
    const client = createClient(AdminService, createConnectTransport({ baseUrl: fx.server.url, httpVersion: "1.1" }));
    expect((await client.getInfo({}, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).version).toBe(VERSION);
  });
});
