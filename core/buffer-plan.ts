/**
 * How many copies a distributor should lease next, so its buffer of ready copies stays between a low
 * and a high watermark without ever holding more than its capacity.
 */

/** What the distributor holds now. */
export interface BufferState {
  /** Copies held and ready to hand out (copies of paused projects excluded). */
  ready: number;
  /** Every copy held: ready, paused or in clients' hands. */
  held: number;
  /** Bytes of the held copies' tasks. */
  heldBytes: number;
  /** Copies asked for by Lease calls still in flight. */
  inFlight: number;
  /** The manager told us to drain: lease nothing more. */
  draining: boolean;
}

/** Watermarks and batch limits of {@link bufferPlan}. */
export interface BufferSettings {
  /** Lease when fewer than this many copies are ready. */
  lowWatermark: number;
  /** Fill the ready buffer up to this many copies. */
  highWatermark: number;
  /** Never hold more than this many copies in total. */
  capacity: number;
  /** Lease nothing while the held tasks take this many bytes or more (one Lease may pass it). */
  capacityBytes: number;
  /** Most copies one Lease asks for (ours, already capped by the manager's max_lease_batch). */
  leaseBatch: number;
}

/** The decision: lease `count` copies now (0: lease nothing). */
export interface BufferPlan {
  count: number;
}

/**
 * Decides the size of the next Lease. Nothing while draining, while the held tasks fill
 * `capacityBytes`, or while the ready buffer (counting copies already asked for) is at or above
 * the low watermark; otherwise enough to reach the high watermark, at most one batch and never
 * past capacity.
 */
export function bufferPlan(state: BufferState, settings: BufferSettings): BufferPlan {
  if (state.draining || state.heldBytes >= settings.capacityBytes) return { count: 0 };
  const expected = state.ready + state.inFlight;
  if (expected >= settings.lowWatermark) return { count: 0 };
  const room = settings.capacity - state.held - state.inFlight;
  const count = Math.min(settings.highWatermark - expected, settings.leaseBatch, room);
  return { count: Math.max(0, count) };
}
