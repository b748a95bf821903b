import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { DistributorServiceReportRequestSchema } from "../../gen/disio/v1/distributor_service_pb.js";
import { encodeReportRequest } from "./report-request-encoder.js";
import { toProtoTaskResult } from "./task-mapper.js";

type Init = MessageInitShape<typeof DistributorServiceReportRequestSchema>;
const bytes = (text: string) => new TextEncoder().encode(text);
const ts = (seconds: bigint, nanos: number) => ({ $typeName: "google.protobuf.Timestamp" as const, seconds, nanos });

const cases: Array<[string, Init]> = [
  ["nothing", {}],
  ["slots zero (present)", { slots: 0 }],
  ["returned copies only", { results: [], returnedCopyIds: ["c1", "cé"], slots: 4096 }],
  ["an output", { results: [{ copyId: "c1", outcome: { case: "output", value: bytes('{"i":1}') }, duration: { seconds: 0n, nanos: 1_500_000 } }] }],
  ["an empty output (still written: the oneof is set)", { results: [{ copyId: "c1", outcome: { case: "output", value: new Uint8Array(0) } }] }],
  ["an error", { results: [{ copyId: "c2", outcome: { case: "error", value: { kind: "throw", message: "boom ✗" } } }], slots: 3 }],
  ["an error with empty fields, a zero duration", { results: [{ copyId: "c2", outcome: { case: "error", value: {} }, duration: {} }] }],
  ["no outcome", { results: [{ copyId: "c3" }] }],
  [
    "every field, large and negative values",
    {
      results: [
        {
          copyId: "c😀",
          outcome: { case: "output", value: new Uint8Array(20_000).map((_, i) => i % 251) },
          duration: { seconds: 3_000_000_000n, nanos: 999_999_999 },
          clientId: "client-1",
          receiveTime: ts(-62_135_596_800n, 5),
          unitId: "u9",
          clientKey: "k".repeat(200),
          clientHost: "host",
        },
      ],
      slots: 10_000,
      returnedCopyIds: ["c7"],
    },
  ],
  [
    "a batch as the worker sends it",
    {
      results: Array.from({ length: 500 }, (_, i) =>
        toProtoTaskResult({ copyId: `c${i.toString(36)}`, outcome: i % 7 === 0 ? { ok: false, kind: "timeout", message: "slow" } : { ok: true, output: bytes(String(i)) }, durationMs: i / 3 }),
      ),
      slots: 512,
    },
  ],
];

describe("encodeReportRequest", () => {
  for (const [label, init] of cases) {
    it(`writes the bytes toBinary writes: ${label}`, () => {
      const expected = toBinary(DistributorServiceReportRequestSchema, create(DistributorServiceReportRequestSchema, init));
      expect(toBinary(DistributorServiceReportRequestSchema, encodeReportRequest(init))).toEqual(expected);
    });
  }
});
