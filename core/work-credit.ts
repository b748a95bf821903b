/**
 * How many tasks a client's Work stream may be sent now: its slots are its credit, tasks in its
 * hands use them up, and one stream message carries at most one batch.
 */

/** Largest slot count a client may ask for (WorkRequest.slots). */
export const MAX_WORK_SLOTS = 10_000;

/** The credit of one Work stream. */
export interface WorkCredit {
  /** Tasks the client can hold at once. */
  slots: number;
  /** Tasks sent on this stream and not reported yet. */
  outstanding: number;
}

/** Number of tasks to send in the next stream message (0: none until a report frees slots). */
export function workCredit(credit: WorkCredit, maxBatch: number): number {
  return Math.max(0, Math.min(credit.slots - credit.outstanding, maxBatch));
}

/** Validates a requested slot count: a whole number in 1..{@link MAX_WORK_SLOTS}, else undefined. */
export function parseWorkSlots(slots: number): number | undefined {
  return Number.isInteger(slots) && slots >= 1 && slots <= MAX_WORK_SLOTS ? slots : undefined;
}
