import { create, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { ResultSchema } from "../../../gen/disio/v1/admin_service_pb.js";
import { resultFieldsMiddle, resultFieldsSql } from "./result-fields-sql.js";

const bytes = (length: number, fill = 0x61) => new Uint8Array(length).fill(fill);

describe("resultFieldsSql with resultFieldsMiddle", () => {
  const db = new Database(":memory:");
  const select = db.prepare(`SELECT ${resultFieldsSql("@input", "@middle", "@copiesSent")}`).pluck();
  const fields = (input: Uint8Array, output: Uint8Array | null, hash: string | null, ms: number, copiesSent: number) =>
    select.get({ input, middle: hash === null ? null : resultFieldsMiddle(output!, hash, ms), copiesSent }) as Buffer | null;

  // Each length and value at a varint's byte boundaries, empty fields, non-ASCII text and bytes
  // that are not UTF-8 (the blob must not go through text).
  const cases: Array<[string, Uint8Array, Uint8Array, string, number, number]> = [
    ["typical", new TextEncoder().encode('{"n":1}'), new TextEncoder().encode("2"), "ab".repeat(32), 1_764_460_800_123, 1],
    ["empty input, output and hash, zero time and copies", bytes(0), bytes(0), "", 0, 0],
    ["whole seconds (no nanos)", bytes(1), bytes(1), "h", 1_764_460_800_000, 3],
    ["under a second (no seconds)", bytes(1), bytes(1), "h", 999, 0],
    ["lengths 127 and 128", bytes(127), bytes(128), "é".repeat(70), 1, 127],
    ["lengths 16383 and 16384", bytes(16_383), bytes(16_384, 0xff), "x", 1_000, 128],
    ["lengths 2097151 and 2097152", bytes(2_097_151, 0x80), bytes(2_097_152, 0), "x", 16_384_000, 16_384],
    ["a length of four varint bytes, a time in 2100", bytes(268_435_455 >> 6), bytes(1), "x", 4_102_444_800_001, 2_097_152],
  ];
  it.each(cases)("writes what toBinary writes: %s", (_, input, output, hash, ms, copiesSent) => {
    const expected = toBinary(ResultSchema, create(ResultSchema, { input, output, outputHash: hash, finishTime: timestampFromMs(ms), copiesSent }));
    const got = fields(input, output, hash, ms, copiesSent)!;
    expect(Buffer.compare(got, Buffer.from(expected))).toBe(0);
  });

  it("is NULL for a unit finished without a result (no hash)", () => {
    expect(fields(bytes(3), null, null, 5, 1)).toBeNull();
  });
});
