#!/usr/bin/env node
// A project owner's script on the dis.io SDK: squares 1..N on the grid, two ways.
//   DISIO_MANAGER_URL=http://127.0.0.1:7100 DISIO_ADMIN_TOKEN=… node examples/sdk/squares.mjs [N]
// Prints one JSON line: the sum of squares, computed by the grid, and what it should be.
import { fileURLToPath } from "node:url";
import { Grid } from "disio";

const n = Number(process.argv[2] ?? 100);
const grid = new Grid({ manager: process.env.DISIO_MANAGER_URL ?? "http://127.0.0.1:7100", token: process.env.DISIO_ADMIN_TOKEN ?? "" });
const program = fileURLToPath(new URL("./work.ts", import.meta.url)); // TypeScript: bundled with esbuild on upload

// 1. One call, outputs in input order, like Promise.all(inputs.map(work)).
const numbers = Array.from({ length: n }, (_, i) => ({ n: i + 1 }));
const outputs = await grid.map(numbers, program);
const inOrder = outputs.every((output, i) => output.n === i + 1);

// 2. The same with a project you keep: stream inputs in, stream results out as units finish.
const job = await grid.createProject({ name: `squares-${Date.now()}`, program, replication: 1 });
async function* inputs() {
  for (let i = 1; i <= n; i++) yield { n: i };
}
await job.add(inputs());
let sum = 0;
let results = 0;
for await (const { output } of job.results()) {
  sum += output.square;
  results++;
}
const project = await job.done();

console.log(JSON.stringify({ n, inOrder, results, sum, expected: (n * (n + 1) * (2 * n + 1)) / 6, failed: Number(project.counts.failed) }));
