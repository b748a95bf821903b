/**
 * Runs one unit inside a unit worker: decodes the input, awaits the program, encodes the output.
 * The same contract as the Node runner (client-node/run-unit.ts), without Node APIs.
 */
import type { UnitEncoding, UnitErrorKind, UnitResult } from "../core/client/unit-processor.js";

/** A program's default export. */
export type WorkFunction = (input: unknown, ctx: { progress(fraction: number): void }) => unknown;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const ctx = Object.freeze({ progress: (_fraction: number) => undefined });

/** Loads a verified ES module source through a `blob:` URL and returns its default export. */
export async function loadProgram(source: string): Promise<WorkFunction> {
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  try {
    const module = (await import(/* @vite-ignore */ url)) as { default?: unknown };
    if (typeof module.default !== "function") throw new TypeError("the program has no default export function work(input, ctx)");
    return module.default as WorkFunction;
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** Runs one unit; never throws: every failure is an error result of the matching kind. */
export async function runProgram(
  program: Promise<WorkFunction> | undefined,
  task: { copyId: string; input: Uint8Array; inputEncoding: UnitEncoding; outputEncoding: UnitEncoding },
): Promise<UnitResult> {
  const fail = (kind: UnitErrorKind, message: string, durationMs = 0): UnitResult => ({ copyId: task.copyId, outcome: { ok: false, kind, message }, durationMs });
  if (program === undefined) return fail("program", "the program was not sent to this worker");
  let work: WorkFunction;
  try {
    work = await program;
  } catch (error) {
    return fail("program", `the program could not be loaded: ${describe(error)}`);
  }
  let input: unknown;
  try {
    input = task.inputEncoding === "bytes" ? task.input : JSON.parse(decoder.decode(task.input));
  } catch (error) {
    return fail("encoding", `the input is not UTF-8 JSON: ${describe(error)}`);
  }
  const started = performance.now();
  let value: unknown;
  try {
    value = await work(input, ctx);
  } catch (error) {
    return fail("throw", describe(error), performance.now() - started);
  }
  const durationMs = performance.now() - started;
  if (task.outputEncoding === "bytes") {
    if (!(value instanceof Uint8Array)) return fail("encoding", "a bytes project must return a Uint8Array", durationMs);
    return { copyId: task.copyId, outcome: { ok: true, output: value }, durationMs };
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    return fail("encoding", `the output is not JSON: ${describe(error)}`, durationMs);
  }
  if (text === undefined) return fail("encoding", `the output is not JSON: got ${typeof value}`, durationMs);
  return { copyId: task.copyId, outcome: { ok: true, output: encoder.encode(text) }, durationMs };
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
