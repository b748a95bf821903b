import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonicalizeJsonBytes } from "../core/canonical-json.js";
import { hashOutput } from "./output-hash.js";

/** The definition: canonical JSON bytes (or the raw bytes when not JSON) and their SHA-256. */
function reference(bytes: Uint8Array): { valid: boolean; canonical?: string; hash: string } {
  const sha = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");
  try {
    const canonical = canonicalizeJsonBytes(bytes);
    return { valid: true, canonical: Buffer.from(canonical).toString("hex"), hash: sha(canonical) };
  } catch {
    return { valid: false, hash: sha(bytes) };
  }
}

describe("hashOutput", () => {
  const outputs: Array<[string, Uint8Array]> = [
    ...['1', '1.0', ' 1', '[1, 2]', '{"b":1,"a":2}', '{"a":2,"b":1}', '"é"', '"\\u00e9"', '{"a":{"z":1,"y":[3,{"q":null}]}}', '\uFEFF{"a":1}', "nope", ""].map(
      (text): [string, Uint8Array] => [JSON.stringify(text), Buffer.from(text)],
    ),
    ["bad UTF-8", Uint8Array.of(0xff, 0x31)],
  ];
  for (const [label, bytes] of outputs) {
    it(`hashes JSON output ${label} as its canonical form`, () => {
      const got = hashOutput(bytes, "json");
      expect({ valid: got.valid, ...(got.valid && { canonical: Buffer.from(got.canonical).toString("hex") }), hash: got.hash }).toEqual(reference(bytes));
    });
  }

  it("hashes bytes outputs as they are", () => {
    const bytes = Uint8Array.of(0, 1, 2, 255);
    expect(hashOutput(bytes, "bytes")).toEqual({ valid: true, canonical: bytes, hash: createHash("sha256").update(bytes).digest("hex") });
  });
});
