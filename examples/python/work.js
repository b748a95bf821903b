// The program the Python backend runs on the grid: squares its input's n.
export default function work(input) {
  return { n: input.n, square: input.n * input.n };
}
