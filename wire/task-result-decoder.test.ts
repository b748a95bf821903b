import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { EmptySchema } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { TaskResultSchema } from "../gen/disio/v1/common_pb.js";
import { DistributorServiceReportRequestSchema } from "../gen/disio/v1/distributor_service_pb.js";
import { ManagerServiceReportRequestSchema } from "../gen/disio/v1/manager_service_pb.js";
import { decodeClientReportRequest } from "../distributor/report-request-decoder.js";
import { decodeManagerReportRequest } from "../manager/mappers/report-request-decoder.js";

type ResultInit = MessageInitShape<typeof TaskResultSchema>;
const bytes = (text: string) => new TextEncoder().encode(text);
/** What a hand-decoded route sees: the request decoded with the empty schema. */
const unknownFields = (wire: Uint8Array) => fromBinary(EmptySchema, wire).$unknown;

const results: Array<[string, ResultInit[]]> = [
  ["no results", []],
  ["an output", [{ copyId: "c1", outcome: { case: "output", value: bytes('{"i":1}') }, duration: { seconds: 0n, nanos: 1_500_000 } }]],
  ["an empty output", [{ copyId: "c1", outcome: { case: "output", value: new Uint8Array(0) } }]],
  ["an error", [{ copyId: "c2", outcome: { case: "error", value: { kind: "throw", message: "boom ✗" } } }]],
  ["an empty error, an empty duration", [{ copyId: "c2", outcome: { case: "error", value: {} }, duration: {} }]],
  ["no outcome, every field at its zero value", [{}]],
  [
    "every field, large and negative values, non-ASCII strings",
    [
      {
        copyId: "c😀",
        outcome: { case: "output", value: new Uint8Array(20_000).map((_, i) => i % 251) },
        duration: { seconds: 3_000_000_000n, nanos: 999_999_999 },
        clientId: "client-é",
        receiveTime: { seconds: -62_135_596_800n, nanos: -5 },
        unitId: "u9",
        clientKey: "k".repeat(200),
        clientHost: "host",
        extraOfCopyId: "c-origin",
      },
    ],
  ],
  ["a batch", Array.from({ length: 300 }, (_, i) => ({ copyId: `c${i}`, outcome: { case: "output" as const, value: bytes(String(i)) }, clientId: "x", receiveTime: { seconds: BigInt(1_700_000_000 + i), nanos: i }, unitId: `u${i}` }))],
];

describe("readTaskResult through the Report decoders", () => {
  for (const [label, list] of results) {
    it(`reads a distributor's Report as fromBinary does: ${label}`, () => {
      const wire = toBinary(ManagerServiceReportRequestSchema, create(ManagerServiceReportRequestSchema, { results: list }));
      expect(decodeManagerReportRequest(unknownFields(wire))).toEqual(fromBinary(ManagerServiceReportRequestSchema, wire));
    });

    it(`reads a client's Report as fromBinary does: ${label}`, () => {
      for (const extra of [{}, { slots: 0, returnedCopyIds: ["c7", "c8é"] }, { slots: 4_294_967_295 }]) {
        const wire = toBinary(DistributorServiceReportRequestSchema, create(DistributorServiceReportRequestSchema, { results: list, ...extra }));
        expect(decodeClientReportRequest(unknownFields(wire))).toEqual(fromBinary(DistributorServiceReportRequestSchema, wire));
      }
    });
  }

  it("merges repeated fields as protobuf does, and skips unknown ones", () => {
    const first = toBinary(TaskResultSchema, create(TaskResultSchema, { copyId: "c1", outcome: { case: "error", value: { kind: "throw", message: "a" } }, duration: { seconds: 5n, nanos: 7 } }));
    const second = toBinary(TaskResultSchema, create(TaskResultSchema, { copyId: "c2", outcome: { case: "error", value: { kind: "crash" } }, duration: { nanos: 9 } }));
    const unknown = new BinaryWriter().tag(15, WireType.LengthDelimited).string("new").tag(14, WireType.Varint).uint32(3).tag(13, WireType.Bit64).fixed64(1n).finish();
    const result = new Uint8Array([...first, ...unknown, ...second]);
    const wire = new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(result).tag(12, WireType.Varint).uint32(1).finish();
    const decoded = decodeManagerReportRequest(unknownFields(wire));
    const typed = fromBinary(ManagerServiceReportRequestSchema, wire);
    // The hand decoder keeps no unknown fields; everything else must match.
    delete typed.$unknown;
    delete typed.results[0]!.$unknown;
    expect(decoded).toEqual(typed);
    expect(decoded.results[0]).toMatchObject({ copyId: "c2", outcome: { case: "error", value: { kind: "crash", message: "a" } }, duration: { seconds: 5n, nanos: 9 } });
  });

  it("throws on a truncated result", () => {
    const wire = toBinary(ManagerServiceReportRequestSchema, create(ManagerServiceReportRequestSchema, { results: [{ copyId: "c1", outcome: { case: "output", value: bytes("12345") } }] }));
    const data = wire.subarray(1, wire.length - 2);
    expect(() => decodeManagerReportRequest([{ no: 1, wireType: WireType.LengthDelimited, data }])).toThrow(/malformed TaskResult/);
    expect(() => decodeClientReportRequest([{ no: 1, wireType: WireType.LengthDelimited, data }])).toThrow(/malformed Report/);
  });
});
