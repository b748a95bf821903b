import type { UnitOutcome } from "./client/unit-processor.js";

/**
 * Largest output one unit may return, bytes. It keeps a single result well inside every message
 * limit on its way (a distributor reads a client's Report up to 16 MiB, a manager a distributor's
 * up to 64 MiB, by default), so one oversized result can neither fail a whole batch nor block a
 * distributor's queue of results.
 */
export const MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

/** The outcome to report for a run: an output over {@link MAX_OUTPUT_BYTES} becomes an "encoding" error that says so. */
export function limitOutput(outcome: UnitOutcome): UnitOutcome {
  if (!outcome.ok || outcome.output.byteLength <= MAX_OUTPUT_BYTES) return outcome;
  return { ok: false, kind: "encoding", message: `the output is ${outcome.output.byteLength} bytes, more than the limit of ${MAX_OUTPUT_BYTES}` };
}
