import type { UnitEncoding, UnitErrorKind, UnitResult } from "../core/client/unit-processor.js";

/** A program's default export. */
export type WorkFunction = (input: unknown, ctx: { progress(fraction: number): void }) => unknown;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const ctx = Object.freeze({ progress: (_fraction: number) => undefined });

/**
 * Loads a verified program's ES module source from a `data:` URL (no file is written) and returns
 * its default export. Rejects when the module fails to evaluate or has no default function.
 */
export async function loadProgram(source: string): Promise<WorkFunction> {
  const module = (await import(`data:text/javascript;base64,${Buffer.from(source, "utf8").toString("base64")}`)) as { default?: unknown };
  if (typeof module.default !== "function") throw new TypeError("the program has no default export function work(input, ctx)");
  return module.default as WorkFunction;
}

/**
 * Runs one unit: decodes its input (JSON → value, bytes → Uint8Array), awaits the program and
 * encodes the output (JSON → UTF-8 of `JSON.stringify`, bytes → must be a Uint8Array). Never throws:
 * every failure is an error result of the matching kind.
 */
export async function runUnit(
  program: Promise<WorkFunction> | undefined,
  task: { copyId: string; input: Uint8Array; inputEncoding: UnitEncoding; outputEncoding: UnitEncoding },
): Promise<UnitResult> {
  const fail = (kind: UnitErrorKind, message: string, durationMs = 0): UnitResult => ({
    copyId: task.copyId,
    outcome: { ok: false, kind, message },
    durationMs,
  });
  if (program === undefined) return fail("program", "the program was not sent to this runner");
  let work: WorkFunction;
  try {
    work = await program;
  } catch (error) {
    return fail("program", `the program could not be loaded: ${describeError(error)}`);
  }
  let input: unknown;
  try {
    input = task.inputEncoding === "bytes" ? task.input : JSON.parse(decoder.decode(task.input));
  } catch (error) {
    return fail("encoding", `the input is not UTF-8 JSON: ${describeError(error)}`);
  }
  const started = performance.now();
  let value: unknown;
  try {
    value = await work(input, ctx);
  } catch (error) {
    return fail("throw", describeError(error), performance.now() - started);
  }
  const durationMs = performance.now() - started;
  if (task.outputEncoding === "bytes") {
    if (!(value instanceof Uint8Array)) return fail("encoding", `a bytes project must return a Uint8Array, got ${kindOf(value)}`, durationMs);
    return { copyId: task.copyId, outcome: { ok: true, output: value }, durationMs };
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    return fail("encoding", `the output is not JSON: ${describeError(error)}`, durationMs);
  }
  if (text === undefined) return fail("encoding", `the output is not JSON: got ${kindOf(value)}`, durationMs);
  return { copyId: task.copyId, outcome: { ok: true, output: encoder.encode(text) }, durationMs };
}

/** A thrown value as one line: `Name: message (CODE, permission)` — the sandbox's denials name their permission. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const details = error as Error & { code?: unknown; permission?: unknown };
  const extra = [details.code, details.permission].filter((part) => typeof part === "string");
  return `${error.name}: ${error.message}${extra.length > 0 ? ` (${extra.join(", ")})` : ""}`;
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return value.constructor?.name ?? "object";
  return typeof value;
}
