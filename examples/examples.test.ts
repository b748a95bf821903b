import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DEFAULT_SAMPLES_PER_UNIT, estimatePi, piInputs, piProgramPath } from "./monte-carlo-pi/index.js";

type Work = (input: unknown, ctx?: unknown) => unknown;
const load = async (path: string): Promise<Work> => ((await import(path)) as { default: Work }).default;

describe("monte-carlo-pi", () => {
  it("is deterministic per seed and estimates π", async () => {
    const work = await load("./monte-carlo-pi/work.js");
    const inputs = piInputs(20, 50_000);
    expect(inputs[0]).toEqual({ seed: 1, samples: 50_000 });
    expect(new Set(inputs.map((input) => input.seed)).size).toBe(20);
    const outputs = inputs.map((input) => work(input));
    expect(inputs.map((input) => work(input))).toEqual(outputs);
    expect(outputs[0]).not.toEqual(outputs[1]);
    expect(Math.abs(estimatePi(outputs) - Math.PI)).toBeLessThan(0.01);
  });

  it("rejects malformed inputs and outputs", async () => {
    const work = await load("./monte-carlo-pi/work.js");
    expect(() => work({ seed: "x", samples: 1 })).toThrow(TypeError);
    expect(() => piInputs(-1)).toThrow(TypeError);
    expect(() => piInputs(1, 0)).toThrow(TypeError);
    expect(() => estimatePi([{ inside: 3, samples: 2 }])).toThrow(TypeError);
    expect(estimatePi([])).toBeNaN();
    expect(piInputs(1)[0]?.samples).toBe(DEFAULT_SAMPLES_PER_UNIT);
  });

  it("points at its program file", () => {
    expect(readFileSync(piProgramPath(), "utf8")).toMatch(/export default function work/);
  });
});

describe("primes", () => {
  it.each([
    [{ from: 0, to: 100 }, { from: 0, to: 100, count: 25, largest: 97 }],
    [{ from: 90, to: 97 }, { from: 90, to: 97, count: 0, largest: null }],
    [{ from: 1_000_000, to: 1_001_000 }, { from: 1_000_000, to: 1_001_000, count: 75, largest: 1_000_999 }],
  ])("counts the primes in %o", async (input, expected) => {
    const work = await load("./primes/work.js");
    expect(work(input)).toEqual(expected);
  });

  it("adds up across ranges to π(10^6) = 78498", async () => {
    const work = await load("./primes/work.js");
    let total = 0;
    for (let from = 0; from < 1_000_000; from += 250_000) total += (work({ from, to: from + 250_000 }) as { count: number }).count;
    expect(total).toBe(78_498);
  });
});

describe("trivial", () => {
  it("returns its input", async () => {
    const work = await load("./trivial/work.js");
    expect(work({ a: [1, 2] })).toEqual({ a: [1, 2] });
  });
});
