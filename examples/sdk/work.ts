/** The program each volunteer runs: squares a number, and says which number it squared. */
export default async function work(input: { n: number }): Promise<{ n: number; square: number }> {
  return { n: input.n, square: input.n * input.n };
}
