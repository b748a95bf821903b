import { describe, expect, it } from "vitest";
import { canonicalJson, canonicalizeJsonBytes } from "./canonical-json.js";

describe("canonicalJson", () => {
  it("sorts keys at every depth and drops white space", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: "x" } })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
  });
  it("gives the same text for the same value written differently", () => {
    const a = canonicalizeJsonBytes(new TextEncoder().encode('{ "x": 1.0, "y": [1, 2] }'));
    const b = canonicalizeJsonBytes(new TextEncoder().encode('{"y":[1,2],"x":1}'));
    expect(new TextDecoder().decode(a)).toBe('{"x":1,"y":[1,2]}');
    expect(a).toEqual(b);
  });
  it("drops undefined properties and writes undefined array items as null, like JSON.stringify", () => {
    expect(canonicalJson({ a: undefined, b: [undefined] })).toBe('{"b":[null]}');
  });
  for (const bad of ["{", "nope", '{"a":}']) {
    it(`rejects ${JSON.stringify(bad)}`, () => expect(() => canonicalizeJsonBytes(new TextEncoder().encode(bad))).toThrow(SyntaxError));
  }
  it("rejects values that are not JSON", () => expect(() => canonicalJson(() => 1)).toThrow(TypeError));
});
