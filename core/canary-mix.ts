import type { CopyVerdict } from "./client-trust.js";

/**
 * How many canary copies (units with a known answer, see docs/architecture.md "Trust") to mix into
 * a lease of `leasedCount` ordinary copies of a project with `canaryRate` (0..1): each leased copy
 * brings a canary with probability `canaryRate`, drawn with `random` (uniform in [0, 1)), so that
 * canaries make roughly that share of the copies a client runs. 0 when the rate is 0 or nothing
 * ordinary was leased (a canary never goes out alone: an idle grid must not spin on canaries).
 */
export function canaryMix(leasedCount: number, canaryRate: number, random: () => number): number {
  if (canaryRate <= 0 || leasedCount <= 0) return 0;
  let canaries = 0;
  for (let i = 0; i < leasedCount; i++) if (random() < canaryRate) canaries += 1;
  return canaries;
}

/**
 * The verdict on a canary copy: an OK output whose hash is the canary's expected output hash is
 * `validated`, any other OK output is `wrong`, but `none` on a project with a validator (its
 * outputs may differ from the known one and still agree, e.g. floats within a tolerance: a canary
 * judges them by the hash only, so it never calls an honest client wrong). A failure (error,
 * invalid output) tells nothing about honesty (`none`): a broken client is handled by the attempts
 * counted per client.
 */
export function canaryVerdict(outcome: "ok" | "error" | "invalid", hash: string | undefined, expectedHash: string, hasValidator: boolean): CopyVerdict {
  if (outcome !== "ok" || hash === undefined) return "none";
  if (hash === expectedHash) return "validated";
  return hasValidator ? "none" : "wrong";
}

/**
 * Ordinary copies a project may take of a lease's `room`: all of it without canaries, else a share
 * that leaves room for the canaries mixed in at `canaryRate` per ordinary copy (at least one: a
 * lease of one copy carries no canary).
 */
export function ordinaryRoom(room: number, canaryRate: number): number {
  return canaryRate > 0 ? Math.max(1, Math.floor(room / (1 + canaryRate))) : room;
}
