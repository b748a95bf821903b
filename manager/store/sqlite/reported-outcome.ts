import type { PayloadEncoding } from "../../../core/project-settings.js";
import { hashOutput } from "../../output-hash.js";
import type { ReportedResult } from "../store.js";

/** Longest error text kept for a copy. */
const MAX_ERROR_LENGTH = 4096;

/** How a reported result counts: its outcome, output hash, canonical output and error text. */
export interface Reported {
  kind: "ok" | "error" | "invalid";
  hash: string | undefined;
  canonical: Uint8Array | undefined;
  error: string | undefined;
}

/** Checks and hashes a reported output against the project's encoding (see manager/output-hash.ts). */
export function reportedOutcome(result: ReportedResult, outputEncoding: PayloadEncoding): Reported {
  if (result.output !== undefined && result.error === undefined) {
    const hashed = hashOutput(result.output, outputEncoding);
    if (hashed.valid) return { kind: "ok", hash: hashed.hash, canonical: hashed.canonical, error: undefined };
    return { kind: "invalid", hash: hashed.hash, canonical: undefined, error: `output is not valid ${outputEncoding === "json" ? "JSON" : "data"}` };
  }
  const error = truncate(result.error ? `${result.error.kind}: ${result.error.message}` : "no output");
  return { kind: "error", hash: undefined, canonical: undefined, error };
}

/** Cuts an error text to {@link MAX_ERROR_LENGTH} characters. */
function truncate(text: string): string {
  return text.length > MAX_ERROR_LENGTH ? text.slice(0, MAX_ERROR_LENGTH) : text;
}
