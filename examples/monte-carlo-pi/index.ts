/**
 * The Monte Carlo π sample project (`disio demo` runs it): its program file, its inputs and how to
 * combine its outputs into an estimate.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** One unit's input: darts to throw and the PRNG seed that makes the unit reproducible. */
export interface PiInput {
  seed: number;
  samples: number;
}

/** One unit's output: how many of `samples` darts landed inside the quarter circle. */
export interface PiOutput {
  inside: number;
  samples: number;
}

/** Darts per unit by default: about 10 ms of work on one core. */
export const DEFAULT_SAMPLES_PER_UNIT = 1_000_000;

/**
 * Absolute path of the program (`work.js`, an ES module). Works from the TypeScript sources and from
 * the compiled `dist/` (tsc does not copy .js files, so there it is found in the package's `examples/`).
 */
export function piProgramPath(): string {
  const beside = fileURLToPath(new URL("./work.js", import.meta.url));
  if (existsSync(beside)) return beside;
  return fileURLToPath(new URL("../../../examples/monte-carlo-pi/work.js", import.meta.url));
}

/** `units` inputs with distinct seeds 1..units, `samplesPerUnit` darts each. */
export function piInputs(units: number, samplesPerUnit: number = DEFAULT_SAMPLES_PER_UNIT): PiInput[] {
  if (!Number.isInteger(units) || units < 0) throw new TypeError(`units: must be a non-negative integer, got ${units}`);
  if (!Number.isInteger(samplesPerUnit) || samplesPerUnit < 1) {
    throw new TypeError(`samplesPerUnit: must be a positive integer, got ${samplesPerUnit}`);
  }
  return Array.from({ length: units }, (_, i) => ({ seed: i + 1, samples: samplesPerUnit }));
}

/** π ≈ 4 · Σinside / Σsamples over the outputs (NaN when there are none). Throws `TypeError` on a malformed output. */
export function estimatePi(outputs: Iterable<unknown>): number {
  let inside = 0;
  let samples = 0;
  for (const output of outputs) {
    const candidate = output as Partial<PiOutput> | null;
    if (
      typeof candidate !== "object" ||
      candidate === null ||
      !Number.isInteger(candidate.inside) ||
      !Number.isInteger(candidate.samples) ||
      candidate.inside! > candidate.samples!
    ) {
      throw new TypeError(`not a Monte Carlo π output: ${JSON.stringify(output)}`);
    }
    inside += candidate.inside!;
    samples += candidate.samples!;
  }
  return samples === 0 ? Number.NaN : (4 * inside) / samples;
}
