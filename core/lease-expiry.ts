/**
 * Whether a copy's lease has run out: a pending copy whose deadline is at or before `nowMs`. Such a
 * copy becomes OUTCOME_TIMEOUT; its attempt stays counted, and its unit is requeued (or fails when
 * the attempts are used up), as `unitAfterCopyEvent({ type: "timeout" })` decides.
 */
export function isLeaseExpired(copy: { outcome: string; deadlineMs: number }, nowMs: number): boolean {
  return copy.outcome === "pending" && copy.deadlineMs <= nowMs;
}

/**
 * Whether a project has passed its deadline: it then stops leasing, its open units become
 * `expired` and the project `expired`. Projects already done or expired are left alone.
 */
export function isProjectPastDeadline(project: { state: string; deadlineMs: number | undefined }, nowMs: number): boolean {
  if (project.deadlineMs === undefined) return false;
  if (project.state !== "active" && project.state !== "paused") return false;
  return project.deadlineMs <= nowMs;
}

/** A renewed lease's deadline: now plus the project's lease timeout. */
export function renewedDeadline(nowMs: number, leaseTimeoutMs: number): number {
  return nowMs + leaseTimeoutMs;
}
