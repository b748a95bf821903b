import { describe, expect, it } from "vitest";
import type { NewUnit } from "./store.js";
import { unitBatchDigest } from "./unit-batch-digest.js";

const bytes = (text: string) => new TextEncoder().encode(text);
const batch = (...inputs: Array<[string, number]>): NewUnit[] => inputs.map(([input, priority]) => ({ input: bytes(input), priority }));

describe("unitBatchDigest", () => {
  it("is the same for the same units, whatever buffers hold them", () => {
    const a = batch(["1", 0], ["[2]", 5]);
    const b = [{ input: Buffer.from("1"), priority: 0 }, { input: bytes("xx[2]").subarray(2), priority: 5 }];
    expect(unitBatchDigest(a)).toBe(unitBatchDigest(b));
    expect(unitBatchDigest(a)).toMatch(/^[0-9a-f]{64}$/);
  });

  const base = batch(["12", 0], ["3", 0]);
  const others: Array<[string, NewUnit[]]> = [
    ["the same bytes split between other units", batch(["1", 0], ["23", 0])],
    ["one unit more", batch(["12", 0], ["3", 0], ["", 0])],
    ["one unit fewer", batch(["12", 0])],
    ["another priority", batch(["12", 0], ["3", 1])],
    ["a negative priority", batch(["12", 0], ["3", -1])],
    ["another input", batch(["12", 0], ["4", 0])],
    ["another order", batch(["3", 0], ["12", 0])],
    ["a canary among them", [{ input: bytes("12"), priority: 0 }, { input: bytes("3"), priority: 0, expectedHash: "ab".repeat(32) }]],
  ];
  for (const [what, other] of others) {
    it(`differs for ${what}`, () => {
      expect(unitBatchDigest(other)).not.toBe(unitBatchDigest(base));
    });
  }

  it("keeps its byte layout (digests stored by earlier versions must still match)", () => {
    // count u32le, then per unit: priority i32le, input length u32le, input bytes.
    expect(unitBatchDigest(batch(["1", 0], ["[2]", -1]))).toBe("6b23c241fe02a794bc8e3cbb4bf884f90f93b8fd6533a6c6c5a0036d7bc9568f");
  });

  it("differs between canaries with other known answers, or at another place", () => {
    const canary = (at: number, hash: string) => batch(["1", 0], ["1", 0]).map((u, i) => (i === at ? { ...u, expectedHash: hash } : u));
    const digests = new Set([canary(0, "aa"), canary(0, "bb"), canary(1, "aa")].map(unitBatchDigest));
    expect(digests.size).toBe(3);
  });

  it("differs between no units and one empty unit", () => {
    expect(unitBatchDigest([])).not.toBe(unitBatchDigest(batch(["", 0])));
  });
});
