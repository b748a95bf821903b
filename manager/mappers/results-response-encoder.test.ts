import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { ListResultsResponseSchema, ResultSchema, WatchResultsResponseSchema } from "../../gen/disio/v1/admin_service_pb.js";
import type { ResultRecord } from "../store/store.js";
import { encodeListResultsResponse, encodeWatchResultsResponse } from "./results-response-encoder.js";
import { toProtoResult } from "./unit-mapper.js";

const bytes = (text: string) => new TextEncoder().encode(text);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** What a result's stored fields are made of (ResultRecord.fields, as the store writes them). */
interface StoredParts {
  input: Uint8Array;
  output: Uint8Array;
  outputHash: string;
  finishedAtMs: number;
  copiesSent: number;
}

function result(overrides: Partial<Omit<ResultRecord, "fields"> & StoredParts>): ResultRecord {
  const r = {
    unitId: "u1",
    projectId: "p1",
    input: bytes('{"n":1}'),
    output: bytes("1"),
    outputHash: "ab".repeat(32),
    finishedAtMs: 1_795_599_937_743,
    copiesSent: 1,
    cursor: "17",
    selfAgreement: false,
    unreplicated: false,
    ...overrides,
  };
  const { input, output, outputHash, copiesSent } = r;
  const fields = toBinary(ResultSchema, create(ResultSchema, { input, output, outputHash, copiesSent, finishTime: timestampFromMs(r.finishedAtMs) }));
  return { unitId: r.unitId, projectId: r.projectId, fields, cursor: r.cursor, selfAgreement: r.selfAgreement, unreplicated: r.unreplicated };
}

const cases: Array<[string, ResultRecord[]]> = [
  ["no results", []],
  ["one result", [result({})]],
  ["zero values omitted: empty input and output, no copies, no hash, empty cursor", [result({ input: new Uint8Array(), output: new Uint8Array(), copiesSent: 0, outputHash: "", cursor: "" })]],
  ["finish time zero (an empty timestamp is still written)", [result({ finishedAtMs: 0 })]],
  ["whole seconds and under a second", [result({ finishedAtMs: 1_700_000_000_000 }), result({ unitId: "u2", finishedAtMs: 999 })]],
  ["self agreement and many copies", [result({ selfAgreement: true, copiesSent: 4_294_967_295 })]],
  ["a large binary output (multi-byte lengths)", [result({ output: new Uint8Array(300_000).map((_, i) => i % 253), input: new Uint8Array(200).fill(7) })]],
  ["non-ASCII strings", [result({ unitId: "ué", projectId: "p€", cursor: "😀" })]],
  ["a page of varied results", Array.from({ length: 500 }, (_, i) => result({ unitId: `u${i}`, cursor: String(i * 997), copiesSent: i % 5, selfAgreement: i % 7 === 0, finishedAtMs: 1_700_000_000_000 + i * 1_234, output: bytes(JSON.stringify({ i, s: "x".repeat(i) })) }))],
];

describe("encodeListResultsResponse", () => {
  for (const [label, results] of cases) {
    for (const nextCursor of ["", "123456789"]) {
      it(`writes the same bytes as reflection: ${label}, next cursor ${JSON.stringify(nextCursor)}`, () => {
        const typed = create(ListResultsResponseSchema, { results: results.map(toProtoResult), nextCursor });
        const encoded = toBinary(ListResultsResponseSchema, encodeListResultsResponse(results, nextCursor));
        expect(hex(encoded)).toBe(hex(toBinary(ListResultsResponseSchema, typed)));
      });
    }
  }
});

describe("encodeWatchResultsResponse", () => {
  for (const [label, results] of cases) {
    for (const [cursor, projectDone] of [["", false], ["42", false], ["42", true], ["", true]] as const) {
      it(`writes the same bytes as reflection: ${label}, cursor ${JSON.stringify(cursor)}, done ${projectDone}`, () => {
        const typed = create(WatchResultsResponseSchema, { results: results.map(toProtoResult), cursor, projectDone });
        const encoded = toBinary(WatchResultsResponseSchema, encodeWatchResultsResponse(results, cursor, projectDone));
        expect(hex(encoded)).toBe(hex(toBinary(WatchResultsResponseSchema, typed)));
      });
    }
  }
});
