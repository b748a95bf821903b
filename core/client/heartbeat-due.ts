/** What decides whether a client sends a heartbeat Report now. */
export interface HeartbeatState {
  /** Tasks the client holds. */
  holding: number;
  /** Copies waiting to be handed back. */
  returnsWaiting: number;
  /** When the last Report of this session was sent, ms. */
  lastSentMs: number;
  /** The distributor's heartbeat interval (JoinResponse.heartbeat_interval), ms; undefined: none asked. */
  intervalMs: number | undefined;
}

/**
 * Whether to send a Report with no results now: at once when copies wait to be handed back (so they
 * are re-issued without delay), and, while holding tasks, when no Report went out for an interval
 * (the distributor takes a client silent for three intervals for dead).
 */
export function heartbeatDue(state: HeartbeatState, nowMs: number): boolean {
  if (state.returnsWaiting > 0) return true;
  return state.intervalMs !== undefined && state.holding > 0 && nowMs - state.lastSentMs >= state.intervalMs;
}
