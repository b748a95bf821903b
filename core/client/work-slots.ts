/** What {@link nextWorkSlots} looks at. */
export interface WorkSlotsInput {
  /** Slots asked for on the open Work stream. */
  current: number;
  /** The processor's own wish ({@link UnitProcessor.slots}): never ask for fewer. */
  floor: number;
  /** Never ask for more (the contract allows 10,000). */
  ceiling: number;
  /** Parallel executors. */
  executors: number;
  /** Mean run time of one unit, ms (measured). */
  meanRunMs: number;
  /**
   * Time a slot spends away from computing per unit: report delay + Report round trip + the
   * distributor pushing the freed slot's next task (measured round trip used as a proxy), ms.
   */
  cycleMs: number;
  /** How long a task may stay in hand before the distributor re-issues it (from Join), ms. */
  taskLeaseMs: number | undefined;
  /** Mean input size of the tasks received, bytes (measured). */
  meanTaskBytes: number;
  /** Bytes of tasks the slots may hold at the mean size. */
  maxBytesInHand: number;
}

/** The most slots whose tasks, at `meanTaskBytes` each, fit in `maxBytesInHand`; never below `floor`. */
export function slotsWithinBytes(floor: number, meanTaskBytes: number, maxBytesInHand: number): number {
  return Math.max(floor, Math.floor(maxBytesInHand / Math.max(meanTaskBytes, 1)));
}

/**
 * How many slots the Work stream should ask for, or `undefined` to keep the current credit.
 *
 * Enough tasks must be in hand to keep every executor busy while results travel back and freed slots
 * are refilled (`executors × cycle / meanRun`, doubled for headroom); but a task must not wait in hand
 * for more than a quarter of its lease, nor the tasks in hand take more than `maxBytesInHand`. Only
 * grows, and only by a factor of 2 or more, so the credit settles after a few steps.
 */
export function nextWorkSlots(input: WorkSlotsInput): number | undefined {
  const runMs = Math.max(input.meanRunMs, 0.001);
  let wanted = input.floor + Math.ceil((2 * input.executors * input.cycleMs) / runMs);
  if (input.taskLeaseMs !== undefined && input.taskLeaseMs > 0) {
    wanted = Math.min(wanted, Math.floor((input.taskLeaseMs / 4 / runMs) * input.executors));
  }
  wanted = Math.min(wanted, slotsWithinBytes(input.floor, input.meanTaskBytes, input.maxBytesInHand));
  wanted = Math.min(input.ceiling, Math.max(input.floor, wanted));
  return wanted >= 2 * input.current ? wanted : undefined;
}
