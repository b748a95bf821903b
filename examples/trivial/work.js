// dis.io sample project for benchmarks: returns its input unchanged, so a run measures the grid
// (lease → stream → run → report → store), not the computation.
export default function work(input) {
  return input;
}
