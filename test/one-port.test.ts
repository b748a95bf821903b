import { execFile } from "node:child_process";
import * as net from "node:net";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { createClient, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VERSION } from "../core/version.js";
import { AdminService } from "../gen/disio/v1/admin_service_pb.js";
import { ServerReflection as ReflectionV1alpha } from "../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { ADMIN_TOKEN, startPortFixture, type PortFixture } from "./port-fixture.js";

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, "..");
const buf = resolve(repoRoot, "node_modules/.bin/buf");
const auth = { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } };

let fx: PortFixture;
beforeAll(async () => {
  fx = await startPortFixture();
});
afterAll(async () => {
  await fx.server.close({ graceMs: 100 });
});

describe("one port answers every protocol", () => {
  const transports: [string, () => Transport][] = [
    ["Connect over HTTP/1.1", () => createConnectTransport({ baseUrl: fx.server.url, httpVersion: "1.1" })],
    ["gRPC-Web over HTTP/1.1", () => createGrpcWebTransport({ baseUrl: fx.server.url, httpVersion: "1.1" })],
    ["Connect over h2c", () => createConnectTransport({ baseUrl: fx.server.url, httpVersion: "2" })],
    ["gRPC over h2c (connect-node)", () => createGrpcTransport({ baseUrl: fx.server.url })],
    ["Connect JSON over HTTP/1.1", () => createConnectTransport({ baseUrl: fx.server.url, httpVersion: "1.1", useBinaryFormat: false })],
  ];
  for (const [name, transport] of transports) {
    it(`${name}: GetInfo returns the version and sees the authenticated principal`, async () => {
      const client = createClient(AdminService, transport());
      const info = await client.getInfo({}, auth);
      expect(info.version).toBe(VERSION);
      expect(info.managerId).toBe("admin");
      expect(info.store).toBe("test");
    });
  }

  it("a @grpc/grpc-js client does real gRPC with a .proto loaded at runtime", async () => {
    const definition = protoLoader.loadSync("disio/v1/admin_service.proto", {
      includeDirs: [resolve(repoRoot, "proto")],
      defaults: true,
    });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      disio: { v1: { AdminService: grpc.ServiceClientConstructor } };
    };
    const client = new loaded.disio.v1.AdminService(`127.0.0.1:${fx.server.port}`, grpc.credentials.createInsecure());
    try {
      const metadata = new grpc.Metadata();
      metadata.set("authorization", `Bearer ${ADMIN_TOKEN}`);
      const info = await new Promise<{ version: string; managerId: string }>((ok, fail) => {
        (client as unknown as Record<string, Function>).GetInfo!({}, metadata, (err: Error | null, res: { version: string; managerId: string }) =>
          err ? fail(err) : ok(res),
        );
      });
      expect(info.version).toBe(VERSION);
      expect(info.managerId).toBe("admin");
    } finally {
      client.close();
    }
  });

  it("keeps an HTTP/1.1 connection alive across calls", async () => {
    const client = createClient(AdminService, createConnectTransport({ baseUrl: fx.server.url, httpVersion: "1.1" }));
    const versions = await Promise.all([1, 2, 3].map(() => client.getInfo({}, auth)));
    expect(versions.map((v) => v.version)).toEqual([VERSION, VERSION, VERSION]);
  });

  it("routes an HTTP/2 preface that arrives in pieces to HTTP/2", async () => {
    const socket = net.connect(fx.server.port, "127.0.0.1");
    await new Promise((r) => socket.once("connect", r));
    const received = collect(socket);
    socket.write("PRI * HTTP/2.0\r\n");
    await sleep(50);
    socket.write("\r\nSM\r\n\r\n");
    socket.write(Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])); // empty SETTINGS frame
    await waitFor(() => received.bytes().length >= 9);
    const head = received.bytes();
    expect(head[3]).toBe(4); // the server's first frame is SETTINGS
    expect(head.readUInt32BE(5) & 0x7fffffff).toBe(0); // on stream 0
    socket.destroy();
  });

  it("routes a first read that only looks like the preface to HTTP/1", async () => {
    const socket = net.connect(fx.server.port, "127.0.0.1");
    await new Promise((r) => socket.once("connect", r));
    const received = collect(socket);
    socket.write("P");
    await sleep(50);
    socket.write("OST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    await new Promise((r) => socket.once("close", r));
    expect(received.bytes().toString("latin1")).toMatch(/^HTTP\/1\.1 404 /);
  });
});

describe("gRPC server reflection", () => {
  it("buf curl lists the services with no local schema", async () => {
    const { stdout } = await run(buf, [
      "curl",
      "--http2-prior-knowledge",
      "--protocol",
      "grpc",
      "--list-services",
      fx.server.url,
    ]);
    const services = stdout.trim().split("\n").sort();
    expect(services).toEqual([
      "disio.v1.AdminService",
      "disio.v1.DistributorService",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
    ]);
  });

  it("buf curl calls AdminService/GetInfo with a bearer token, schema from reflection", async () => {
    const { stdout } = await run(buf, [
      "curl",
      "--http2-prior-knowledge",
      "--protocol",
      "grpc",
      "-H",
      `Authorization: Bearer ${ADMIN_TOKEN}`,
      "-d",
      "{}",
      `${fx.server.url}/disio.v1.AdminService/GetInfo`,
    ]);
    const info = JSON.parse(stdout) as { version: string; managerId: string; serverTime: string };
    expect(info.version).toBe(VERSION);
    expect(info.managerId).toBe("admin");
    expect(Date.parse(info.serverTime)).toBeGreaterThan(0);
  });

  it("v1alpha (grpcurl's) answers list_services and file_containing_symbol with every dependency", async () => {
    const client = createClient(ReflectionV1alpha, createGrpcTransport({ baseUrl: fx.server.url }));
    async function* queries() {
      yield { messageRequest: { case: "listServices" as const, value: "*" } };
      yield { messageRequest: { case: "fileContainingSymbol" as const, value: "disio.v1.AdminService.GetInfo" } };
      yield { messageRequest: { case: "fileContainingSymbol" as const, value: "disio.v1.NoSuchThing" } };
      yield { messageRequest: { case: "fileByFilename" as const, value: "google/protobuf/timestamp.proto" } };
    }
    const answers = [];
    for await (const answer of client.serverReflectionInfo(queries())) answers.push(answer);
    expect(answers).toHaveLength(4);

    const [list, symbol, missing, byName] = answers;
    expect(list?.messageResponse.case).toBe("listServicesResponse");
    if (list?.messageResponse.case === "listServicesResponse") {
      expect(list.messageResponse.value.service.map((s) => s.name)).toContain("disio.v1.AdminService");
    }

    expect(symbol?.messageResponse.case).toBe("fileDescriptorResponse");
    if (symbol?.messageResponse.case !== "fileDescriptorResponse") throw new Error("no files");
    const files = symbol.messageResponse.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b));
    expect(files[0]?.name).toBe("disio/v1/admin_service.proto");
    const names = files.map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(["disio/v1/common.proto", "google/protobuf/timestamp.proto", "google/protobuf/duration.proto"]));
    // Self-contained: the files alone build a registry that knows the service and its methods.
    const byFileName = new Map(files.map((f) => [f.name, f]));
    const registry = createFileRegistry(files[0]!, (name) => byFileName.get(name));
    expect(registry.getService("disio.v1.AdminService")?.methods.map((m) => m.name)).toContain("GetInfo");

    expect(missing?.messageResponse.case).toBe("errorResponse");
    if (missing?.messageResponse.case === "errorResponse") expect(missing.messageResponse.value.errorCode).toBe(5);

    // Asked by name, a file is sent again even though it went out as a dependency on this stream.
    expect(byName?.messageResponse.case).toBe("fileDescriptorResponse");
    if (byName?.messageResponse.case === "fileDescriptorResponse") {
      const first = fromBinary(FileDescriptorProtoSchema, byName.messageResponse.value.fileDescriptorProto[0]!);
      expect(first.name).toBe("google/protobuf/timestamp.proto");
      expect(byName.messageResponse.value.fileDescriptorProto).toHaveLength(1);
    }
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error("timed out waiting");
    await sleep(10);
  }
}

function collect(socket: net.Socket): { bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  socket.on("data", (c: Buffer) => chunks.push(c));
  socket.on("error", () => undefined);
  return { bytes: () => Buffer.concat(chunks) };
}
