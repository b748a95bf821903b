// dis.io sample project: estimate π by throwing random darts at the unit square.
//
// Input:  { seed: integer, samples: integer }   Output: { inside: integer, samples: integer }
// `inside` counts the points (x, y) in [0, 1)² with x² + y² < 1; π ≈ 4 · Σinside / Σsamples.
// The points come from a seeded PRNG (mulberry32), so every replica of a unit computes the same
// output and quorum can compare them byte for byte.

/** mulberry32: a tiny, fast 32-bit PRNG; returns floats in [0, 1). */
function mulberry32(seed) {
  let state = seed >>> 0;
  return function next() {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export default function work(input, ctx) {
  const { seed, samples } = input;
  if (!Number.isInteger(seed) || !Number.isInteger(samples) || samples < 0) {
    throw new TypeError("input must be { seed: integer, samples: non-negative integer }");
  }
  const random = mulberry32(seed);
  let inside = 0;
  for (let i = 0; i < samples; i++) {
    const x = random();
    const y = random();
    if (x * x + y * y < 1) inside++;
  }
  ctx?.progress?.(1);
  return { inside, samples };
}
