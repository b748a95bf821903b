import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { ResultSchema } from "../gen/disio/v1/admin_service_pb.js";
import { Encoding } from "../gen/disio/v1/common_pb.js";
import { resultRow } from "./result-row.js";

const utf8 = new TextEncoder();
const JSON_BOTH = { input: Encoding.JSON, output: Encoding.JSON };

describe("resultRow", () => {
  it("writes the canonical output verbatim: key order and large integers survive", () => {
    const output = '{"10":"a","9":"b","big":12345678901234567890}';
    const row = resultRow(create(ResultSchema, { unitId: "u1", input: utf8.encode('{"x":1}'), output: utf8.encode(output), outputHash: "h", copiesSent: 2, cursor: "7" }), JSON_BOTH);
    expect(row).toBe(`{"unit":"u1","input":{"x":1},"output":${output},"outputHash":"h","copies":2,"cursor":"7"}`);
    expect(JSON.parse(row).output).toEqual({ 9: "b", 10: "a", big: 12345678901234567890 });
  });

  it("keeps a row on one line when a stored input has line breaks", () => {
    const row = resultRow(create(ResultSchema, { unitId: "u2", input: utf8.encode('{\r\n  "x": "a b"\n}'), output: utf8.encode("3"), outputHash: "h", cursor: "8" }), JSON_BOTH);
    expect(row).not.toMatch(/[\r\n]/);
    expect(JSON.parse(row)).toMatchObject({ unit: "u2", input: { x: "a b" }, output: 3 });
  });

  it("writes bytes projects' values as base64", () => {
    const row = resultRow(
      create(ResultSchema, { unitId: "u3", input: new Uint8Array([1, 2]), output: new Uint8Array([255]), outputHash: "h", cursor: "9" }),
      { input: Encoding.BYTES, output: Encoding.BYTES },
    );
    expect(JSON.parse(row)).toMatchObject({ input: "AQI=", output: "/w==" });
  });
});
