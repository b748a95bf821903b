/**
 * When a held copy's manager lease should be renewed: once half of it has run, so one failed Renew
 * still leaves time for a retry before the copy goes back to the manager's queue.
 */

/** Least time before a deadline we renew at, ms, for very short leases. */
export const MIN_RENEW_MARGIN_MS = 1_000;

/** The time (ms) at which a lease granted at `grantedAtMs` and ending at `deadlineMs` is due for renewal. */
export function leaseRenewal(grantedAtMs: number, deadlineMs: number): number {
  const half = grantedAtMs + (deadlineMs - grantedAtMs) / 2;
  return Math.floor(Math.min(half, deadlineMs - MIN_RENEW_MARGIN_MS));
}
