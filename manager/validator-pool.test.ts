import { afterEach, describe, expect, it } from "vitest";
import { ValidatorFailedError } from "./errors.js";
import { ValidatorPool } from "./validator-pool.js";

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const TOLERANT = "export default (x) => x; export function validate(a, b) { return Math.abs(a.v - b.v) < 1e-9; }";

describe("ValidatorPool", () => {
  let pool: ValidatorPool;
  afterEach(() => pool.close());

  it("tells whether a program exports validate", async () => {
    pool = new ValidatorPool();
    expect(await pool.hasValidator(TOLERANT)).toBe(true);
    expect(await pool.hasValidator("export default (x) => x;")).toBe(false);
    await expect(pool.hasValidator("export default (x) => ;")).rejects.toThrow(/validator failed: the program does not load/);
  });

  it("runs validate on each pair with the outputs decoded", async () => {
    pool = new ValidatorPool();
    const outputs = new Map([["a", json({ v: 1 })], ["b", json({ v: 1 + 1e-12 })], ["c", json({ v: 2 })]]);
    const pairs = [["a", "b"], ["a", "c"], ["b", "c"]] as const;
    expect(await pool.compare("p1", TOLERANT, { outputEncoding: "json", outputs, pairs })).toEqual([true, false, false]);
  });

  it("fails a throwing, a non-boolean and a spinning validator with ValidatorFailedError, and keeps serving other programs", async () => {
    pool = new ValidatorPool({ timeoutMs: 500 });
    const batch = { outputEncoding: "json" as const, outputs: new Map([["a", json(1)], ["b", json(2)]]), pairs: [["a", "b"]] as const };
    await expect(pool.compare("throws", "export function validate() { throw new Error('boom'); }", batch)).rejects.toThrow("validator failed: validate threw: boom");
    await expect(pool.compare("number", "export function validate() { return 1; }", batch)).rejects.toThrow("validate returned number, not a boolean");
    const spinning = pool.compare("spins", "export function validate() { for (;;); }", batch);
    await expect(spinning).rejects.toBeInstanceOf(ValidatorFailedError);
    await expect(spinning).rejects.toThrow("no answer within 500 ms");
    expect(await pool.compare("fine", "export function validate(a, b) { return a + 1 === b; }", batch)).toEqual([true]);
    // The spinning program gets a fresh worker next time (and fails the same way, not forever pending).
    await expect(pool.compare("spins", "export function validate() { for (;;); }", batch)).rejects.toThrow("no answer within 500 ms");
  });

  it("fails a validator that runs out of memory", async () => {
    pool = new ValidatorPool({ maxHeapMb: 16, timeoutMs: 20_000 });
    const batch = { outputEncoding: "json" as const, outputs: new Map([["a", json(1)], ["b", json(2)]]), pairs: [["a", "b"]] as const };
    const hog = "export function validate() { const a = []; for (;;) a.push(new Array(1e5).fill(Math.random())); }";
    await expect(pool.compare("hog", hog, batch)).rejects.toThrow(/validator failed: (out of memory|its worker thread exited)/);
  }, 30_000);
});
