// dis.io sample project: count the primes in a range with a segmented sieve.
//
// Input:  { from: integer ≥ 0, to: integer > from, at most 10^7 apart }
// Output: { from, to, count, largest }   (largest is null when the range holds no prime)
// Split [0, N) into ranges, one unit each; the total count is the sum of the counts.

const MAX_SPAN = 10_000_000;

export default function work(input) {
  const { from, to } = input;
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to <= from || to - from > MAX_SPAN) {
    throw new TypeError(`input must be { from, to } with 0 ≤ from < to and to - from ≤ ${MAX_SPAN}`);
  }
  const limit = Math.floor(Math.sqrt(to - 1));
  const small = new Uint8Array(limit + 1); // 1 = composite
  const composite = new Uint8Array(to - from);
  for (let p = 2; p <= limit; p++) {
    if (small[p]) continue;
    for (let m = p * p; m <= limit; m += p) small[m] = 1;
    for (let m = Math.max(p * p, Math.ceil(from / p) * p); m < to; m += p) composite[m - from] = 1;
  }
  let count = 0;
  let largest = null;
  for (let n = Math.max(from, 2); n < to; n++) {
    if (!composite[n - from]) {
      count++;
      largest = n;
    }
  }
  return { from, to, count, largest };
}
