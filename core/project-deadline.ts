/**
 * Whether a project's deadline has passed at `nowMs` (reached counts as passed): such a project
 * leases nothing more, and the manager's sweep expires it and its open units. No deadline: never.
 */
export function isPastDeadline(deadlineMs: number | undefined, nowMs: number): boolean {
  return deadlineMs !== undefined && deadlineMs <= nowMs;
}
