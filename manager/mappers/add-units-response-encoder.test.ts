import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { AddUnitsResponseSchema } from "../../gen/disio/v1/admin_service_pb.js";
import { encodeAddUnitsResponse } from "./add-units-response-encoder.js";

describe("encodeAddUnitsResponse", () => {
  const cases: Array<[string, string[], boolean]> = [
    ["no ids", [], false],
    ["already stored, no ids", [], true],
    ["ids", ["u1", "u22", "u333"], false],
    ["many ids, already stored", Array.from({ length: 10_000 }, (_, i) => `u${1_000_000 + i}`), true],
    ["an empty and a non-ASCII id", ["", "ué😀"], false],
  ];
  it.each(cases)("writes what toBinary of the typed message writes: %s", (_, unitIds, alreadyStored) => {
    const typed = toBinary(AddUnitsResponseSchema, create(AddUnitsResponseSchema, { unitIds, alreadyStored }));
    expect(Buffer.from(toBinary(AddUnitsResponseSchema, encodeAddUnitsResponse(unitIds, alreadyStored))).equals(Buffer.from(typed))).toBe(true);
  });
});
