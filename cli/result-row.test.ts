import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { ResultSchema } from "../gen/disio/v1/admin_service_pb.js";
import { Encoding } from "../gen/disio/v1/common_pb.js";
import { resultRows } from "./result-row.js";

const utf8 = new TextEncoder();
const JSON_BOTH = { input: Encoding.JSON, output: Encoding.JSON };
const row = (init: Parameters<typeof create<typeof ResultSchema>>[1], encodings = JSON_BOTH) => {
  const text = resultRows([create(ResultSchema, init)], encodings).toString("utf8");
  expect(text.endsWith("\n")).toBe(true);
  return text.slice(0, -1);
};

describe("resultRows", () => {
  it("writes the canonical output verbatim: key order and large integers survive", () => {
    const output = '{"10":"a","9":"b","big":12345678901234567890}';
    const text = row({ unitId: "u1", input: utf8.encode('{"x":1}'), output: utf8.encode(output), outputHash: "h", copiesSent: 2, cursor: "7" });
    expect(text).toBe(`{"unit":"u1","input":{"x":1},"output":${output},"outputHash":"h","copies":2,"cursor":"7"}`);
    expect(JSON.parse(text).output).toEqual({ 9: "b", 10: "a", big: 12345678901234567890 });
  });

  it("keeps a row on one line when a stored input has line breaks, each run of them one space", () => {
    const text = row({ unitId: "u2", input: utf8.encode('{\r\n  "x": "a b",\n"y"\r:\n\n1}'), output: utf8.encode("3"), outputHash: "h", cursor: "8" });
    expect(text).toBe('{"unit":"u2","input":{   "x": "a b", "y" : 1},"output":3,"outputHash":"h","copies":0,"cursor":"8"}');
    expect(JSON.parse(text)).toMatchObject({ unit: "u2", input: { x: "a b", y: 1 }, output: 3 });
  });

  it("writes bytes projects' values as base64", () => {
    const text = row({ unitId: "u3", input: new Uint8Array([1, 2]), output: new Uint8Array([255]), outputHash: "h", cursor: "9" }, { input: Encoding.BYTES, output: Encoding.BYTES });
    expect(JSON.parse(text)).toMatchObject({ input: "AQI=", output: "/w==" });
  });

  it("writes a page of rows as JSON.stringify would, escaping strings that need it and formatting each finish time", () => {
    const results = [
      { unitId: "u4", ms: 1_764_460_800_123, cursor: "10" },
      { unitId: "u5", ms: 1_764_460_800_123, cursor: "11" },
      { unitId: 'u"é\\\n😀', ms: 1_764_460_801_999, cursor: "12" },
      { unitId: "u7", ms: 0, cursor: "\ud800" },
    ].map(({ unitId, ms, cursor }) =>
      create(ResultSchema, { unitId, input: utf8.encode('["ü"]'), output: utf8.encode("{}"), outputHash: "ab", finishTime: timestampFromMs(ms), copiesSent: 1, cursor }),
    );
    const lines = resultRows(results, JSON_BOTH).toString("utf8").split("\n");
    expect(lines.pop()).toBe("");
    expect(lines).toEqual(
      results.map((r) =>
        JSON.stringify({ unit: r.unitId, input: ["ü"], output: {}, outputHash: "ab", finishTime: timestampDate(r.finishTime!).toISOString(), copies: 1, cursor: r.cursor }),
      ),
    );
  });
});
