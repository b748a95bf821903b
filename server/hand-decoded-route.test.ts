import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DistributorService, DistributorServiceReportRequestSchema, type DistributorServiceReportRequest } from "../gen/disio/v1/distributor_service_pb.js";
import { handDecodedRoute } from "./hand-decoded-route.js";
import { startServer, type RunningServer } from "./index.js";

/** Answers a Report with its result count, and in `duplicates` which route decoded it (0 typed, 1 by hand). */
function answer(request: DistributorServiceReportRequest, route: number) {
  return { accepted: request.results.length, duplicates: route, refusedCopyIds: request.results.map((r) => r.copyId) };
}

describe("handDecodedRoute, through ServerOptions.binaryRoutes", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({
      port: 0,
      log: pino({ level: "silent" }),
      routes: (router) => router.rpc(DistributorService.method.report, (request) => answer(request, 0)),
      binaryRoutes: (router) =>
        handDecodedRoute(
          router,
          DistributorService.method.report,
          (fields) => {
            if (fields?.some((f) => f.no === 15)) throw new Error("malformed Report: field 15 is a test's poison");
            return create(DistributorServiceReportRequestSchema, { results: (fields ?? []).map(() => ({ copyId: "by-hand" })) });
          },
          (request) => answer(request, 1),
        ),
    });
  });
  afterAll(async () => {
    await server.close();
  });

  const results = [{ copyId: "c1", outcome: { case: "output" as const, value: new Uint8Array([1]) } }, { copyId: "c2" }];

  it("sends binary calls (Connect and gRPC-web) to the hand-decoded handler", async () => {
    for (const transport of [createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", useBinaryFormat: true }), createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1", useBinaryFormat: true })]) {
      const got = await createClient(DistributorService, transport).report({ results });
      expect(got).toMatchObject({ accepted: 2, duplicates: 1, refusedCopyIds: ["by-hand", "by-hand"] });
    }
  });

  it("sends JSON calls to the typed handler", async () => {
    for (const transport of [createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", useBinaryFormat: false }), createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1", useBinaryFormat: false })]) {
      const got = await createClient(DistributorService, transport).report({ results });
      expect(got).toMatchObject({ accepted: 2, duplicates: 0, refusedCopyIds: ["c1", "c2"] });
    }
  });

  it("answers bytes the decoder cannot read with InvalidArgument, and keeps serving", async () => {
    const client = createClient(DistributorService, createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", useBinaryFormat: true }));
    const poisoned = { $typeName: "disio.v1.DistributorServiceReportRequest" as const, results: [], returnedCopyIds: [], $unknown: [{ no: 15, wireType: 0, data: new Uint8Array([1]) }] };
    const error = await client.report(poisoned).then(() => undefined, (e: unknown) => ConnectError.from(e));
    expect(error?.code).toBe(Code.InvalidArgument);
    expect(error?.rawMessage).toMatch(/field 15 is a test's poison/);
    expect((await client.report({ results })).accepted).toBe(2);
  });
});
