import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { EmptySchema, TimestampSchema, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { ListResultsResponseSchema, ResultSchema, WatchResultsResponseSchema, type Result } from "../gen/disio/v1/admin_service_pb.js";
import { decodeResultPage } from "./result-page-decoder.js";

const bytes = (text: string) => new TextEncoder().encode(text);

function result(overrides: Partial<Omit<Result, "$typeName" | "$unknown">>): Result {
  return create(ResultSchema, {
    unitId: "u1",
    projectId: "p1",
    input: bytes('{"n":1}'),
    output: bytes("1"),
    outputHash: "ab".repeat(32),
    finishTime: timestampFromMs(1_795_599_937_743),
    copiesSent: 1,
    cursor: "17",
    ...overrides,
  });
}

/** What the SDK's raw call sees: the page decoded with the empty schema. */
const unknownFields = (wire: Uint8Array) => fromBinary(EmptySchema, wire).$unknown;

const cases: Array<[string, Result[]]> = [
  ["no results", []],
  ["one result", [result({})]],
  ["every field at its zero value", [create(ResultSchema)]],
  ["an empty finish time", [result({ finishTime: create(TimestampSchema) })]],
  ["a negative finish time (ten-byte varints)", [result({ finishTime: { $typeName: "google.protobuf.Timestamp", seconds: -62_135_596_800n, nanos: 5 } })]],
  ["self agreement, the largest copy count", [result({ selfAgreement: true, copiesSent: 4_294_967_295 })]],
  ["accepted alone (adaptive replication)", [result({ unreplicated: true }), result({ unitId: "u2", selfAgreement: true, unreplicated: true })]],
  ["large binary input and output", [result({ input: new Uint8Array(20_000).map((_, i) => i % 251), output: new Uint8Array(300).fill(9) })]],
  ["non-ASCII strings", [result({ unitId: "ué", projectId: "p€", cursor: "😀", outputHash: "ß" })]],
  ["a page of varied results", Array.from({ length: 300 }, (_, i) => result({ unitId: `u${i}`, cursor: String(i * 991), copiesSent: i % 4, selfAgreement: i % 3 === 0, finishTime: timestampFromMs(1_700_000_000_000 + i * 777), output: bytes(JSON.stringify({ i })) }))],
];

describe("decodeResultPage", () => {
  for (const [label, results] of cases) {
    it(`reads a ListResults page as fromBinary does: ${label}`, () => {
      const wire = toBinary(ListResultsResponseSchema, create(ListResultsResponseSchema, { results, nextCursor: "99" }));
      const typed = fromBinary(ListResultsResponseSchema, wire);
      expect(decodeResultPage(unknownFields(wire))).toEqual({ results: typed.results, cursor: typed.nextCursor, projectDone: false });
    });

    it(`reads a WatchResults batch as fromBinary does: ${label}`, () => {
      const wire = toBinary(WatchResultsResponseSchema, create(WatchResultsResponseSchema, { results, cursor: "7", projectDone: true }));
      const typed = fromBinary(WatchResultsResponseSchema, wire);
      expect(decodeResultPage(unknownFields(wire))).toEqual({ results: typed.results, cursor: typed.cursor, projectDone: typed.projectDone });
    });
  }

  it("skips fields it does not know, in the page and in a Result", () => {
    const one = toBinary(ResultSchema, result({ unitId: "u9" }));
    // field 14 varint, field 15 fixed64, field 13 bytes: a newer manager's additions.
    const extra = Uint8Array.from([(14 << 3) | 0, 0x96, 0x01, (15 << 3) | 1, 1, 2, 3, 4, 5, 6, 7, 8, (13 << 3) | 2, 2, 0xaa, 0xbb]);
    const newer = new Uint8Array([...one, ...extra]);
    const page = new Uint8Array([(1 << 3) | 2, newer.length, ...newer, (9 << 3) | 0, 1, (2 << 3) | 2, 1, 0x35]);
    expect(newer.length).toBeLessThan(128);
    const decoded = decodeResultPage(unknownFields(page));
    expect(decoded.cursor).toBe("5");
    expect(decoded.results).toEqual([fromBinary(ResultSchema, one)]);
  });

  it("refuses a Result whose length runs past the page", () => {
    const one = toBinary(ResultSchema, result({}));
    const truncated = new Uint8Array([(1 << 3) | 2, one.length, ...one.subarray(0, one.length - 3)]);
    expect(() => decodeResultPage([{ no: 1, wireType: 2, data: truncated.subarray(1) }])).toThrow(/malformed Result/);
  });
});
