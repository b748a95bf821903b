import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { WatchResultsResponseSchema } from "../../gen/disio/v1/admin_service_pb.js";
import type { ResultRecord } from "../store/store.js";
import { toProtoResult } from "./unit-mapper.js";
import { encodeWatchResultsResponse } from "./watch-results-encoder.js";

const bytes = (text: string) => new TextEncoder().encode(text);

function result(overrides: Partial<ResultRecord>): ResultRecord {
  return {
    unitId: "u1",
    projectId: "p1",
    input: bytes('{"i":1}'),
    output: bytes('{"i":1}'),
    outputHash: "ab".repeat(32),
    finishedAtMs: 1_795_599_937_743,
    copiesSent: 1,
    cursor: "17",
    selfAgreement: false,
    unreplicated: false,
    ...overrides,
  };
}

/** What connect sends when the results go through protobuf-es reflection. */
function reflected(results: ResultRecord[], cursor: string, projectDone: boolean): Uint8Array {
  return toBinary(WatchResultsResponseSchema, create(WatchResultsResponseSchema, { results: results.map(toProtoResult), cursor, projectDone }));
}

describe("encodeWatchResultsResponse", () => {
  const cases: Array<[string, ResultRecord[], string, boolean]> = [
    ["a keep-alive (no results)", [], "42", false],
    ["the last, empty batch of a done project", [], "42", true],
    ["one result", [result({})], "17", false],
    ["one result, project done", [result({})], "17", true],
    ["zero values omitted: empty input and output, no copies, time 0, empty cursor", [result({ input: new Uint8Array(), output: new Uint8Array(), copiesSent: 0, finishedAtMs: 0, cursor: "" })], "", false],
    ["a whole-second finish time (no nanos)", [result({ finishedAtMs: 1_700_000_000_000 })], "1", false],
    ["a finish time under a second (no seconds)", [result({ finishedAtMs: 999 })], "1", false],
    ["self-agreement and many copies", [result({ selfAgreement: true, copiesSent: 300 })], "1", false],
    ["accepted alone (adaptive replication)", [result({ unreplicated: true }), result({ unitId: "u2", selfAgreement: true, unreplicated: true })], "2", false],
    ["large binary input and output", [result({ input: new Uint8Array(70_000).map((_, i) => i % 251), output: new Uint8Array(200_000).map((_, i) => i % 7) })], "9", true],
    ["non-ASCII strings", [result({ unitId: "u€", projectId: "pé", outputHash: "😀", cursor: "ü" })], "ü", false],
    [
      "a batch of several",
      Array.from({ length: 50 }, (_, k) => result({ unitId: `u${k.toString(36)}`, cursor: String(1000 + k), finishedAtMs: 1_795_599_937_000 + k * 37, selfAgreement: k % 3 === 0 })),
      "1049",
      false,
    ],
  ];
  for (const [label, results, cursor, done] of cases) {
    it(`writes the same bytes as reflection: ${label}`, () => {
      const encoded = toBinary(WatchResultsResponseSchema, encodeWatchResultsResponse(results, cursor, done));
      expect(Buffer.from(encoded).toString("hex")).toBe(Buffer.from(reflected(results, cursor, done)).toString("hex"));
    });
  }

  it("decodes to the results, cursor and done flag", () => {
    const results = [result({ selfAgreement: true }), result({ unitId: "u2", input: bytes("[1,2]"), output: bytes("3"), cursor: "18" })];
    const decoded = fromBinary(WatchResultsResponseSchema, toBinary(WatchResultsResponseSchema, encodeWatchResultsResponse(results, "18", true)));
    expect(decoded.cursor).toBe("18");
    expect(decoded.projectDone).toBe(true);
    expect(decoded.results.map((r) => [r.unitId, new TextDecoder().decode(r.input), new TextDecoder().decode(r.output), r.cursor, r.selfAgreement, r.finishTime?.seconds])).toEqual([
      ["u1", '{"i":1}', '{"i":1}', "17", true, 1_795_599_937n],
      ["u2", "[1,2]", "3", "18", false, 1_795_599_937n],
    ]);
  });
});
