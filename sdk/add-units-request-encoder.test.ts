import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { AddUnitsRequestSchema } from "../gen/disio/v1/admin_service_pb.js";
import { encodeAddUnitsRequest } from "./add-units-request-encoder.js";

const bytes = (text: string) => new TextEncoder().encode(text);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("encodeAddUnitsRequest", () => {
  const cases: Array<[string, string, string, Uint8Array[]]> = [
    ["no units, no request id", "p1", "", []],
    ["one unit", "p1", "req-1", [bytes('{"n":1}')]],
    ["an empty input (an empty UnitInput is still written)", "p1", "r", [new Uint8Array(), bytes("2")]],
    ["a large input (multi-byte lengths)", "p9", "units-add-" + "f".repeat(64), [new Uint8Array(300_000).fill(65), bytes("[]")]],
    ["non-ASCII ids", "pé", "r€", [bytes('"😀"')]],
    ["a batch of varied inputs", "p12", "batch", Array.from({ length: 1_000 }, (_, i) => bytes(JSON.stringify({ i, s: "x".repeat(i % 200) })))],
  ];
  for (const [label, projectId, requestId, inputs] of cases) {
    it(`writes the same bytes as reflection: ${label}`, () => {
      const typed = create(AddUnitsRequestSchema, { projectId, requestId, units: inputs.map((input) => ({ input })) });
      const encoded = toBinary(AddUnitsRequestSchema, encodeAddUnitsRequest(projectId, requestId, inputs));
      expect(hex(encoded)).toBe(hex(toBinary(AddUnitsRequestSchema, typed)));
      expect(fromBinary(AddUnitsRequestSchema, encoded).units).toHaveLength(inputs.length);
    });
  }
});
