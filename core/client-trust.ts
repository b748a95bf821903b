/**
 * What a finished unit says about one OK copy's client: its output agreed with a verified result
 * (`validated`), disagreed with it (`wrong`), or tells nothing (`none`: the unit was decided by
 * self-agreement, so nothing was checked against another volunteer).
 */
export type CopyVerdict = "validated" | "wrong" | "none";

/**
 * The verdict on an OK copy with output `hash` once its unit finished with `winningHash`. Only a
 * verified result (distinct volunteers agreed, or a canary's known answer) judges a client.
 */
export function copyVerdict(hash: string, winningHash: string, verified: boolean): CopyVerdict {
  if (!verified) return "none";
  return hash === winningHash ? "validated" : "wrong";
}

/**
 * A client's trust after a verdict (BOINC's "consecutive valid results"): it grows by one with
 * each validated result and falls to zero on a wrong one. `none` leaves it as it is.
 */
export function trustAfter(trust: number, verdict: CopyVerdict): number {
  if (verdict === "validated") return trust + 1;
  if (verdict === "wrong") return 0;
  return trust;
}
