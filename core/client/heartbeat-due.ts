/** What decides whether a client sends a heartbeat Report now. */
export interface HeartbeatState {
  /** Copies waiting to be handed back. */
  returnsWaiting: number;
  /** When the last Report of this session was sent, ms. */
  lastSentMs: number;
  /** The distributor's heartbeat interval (JoinResponse.heartbeat_interval), ms; undefined: none asked. */
  intervalMs: number | undefined;
}

/**
 * Whether to send a Report with no results now: at once when copies wait to be handed back (so they
 * are re-issued without delay), and when no Report went out for an interval, holding tasks or idle
 * (the distributor takes a client silent for three intervals for dead: its tasks go to others and
 * it stops counting as connected).
 */
export function heartbeatDue(state: HeartbeatState, nowMs: number): boolean {
  if (state.returnsWaiting > 0) return true;
  return state.intervalMs !== undefined && nowMs - state.lastSentMs >= state.intervalMs;
}
