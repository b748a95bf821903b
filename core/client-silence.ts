/** Heartbeat intervals a client holding tasks may stay silent before it is taken for dead. */
export const SILENT_HEARTBEATS = 3;

/**
 * Whether a client holding tasks has been silent so long that it is taken for dead (frozen,
 * suspended, its machine gone while the connection stays open): no Report (results or an empty
 * heartbeat) for {@link SILENT_HEARTBEATS} heartbeat intervals. A client holding nothing owes no
 * heartbeat.
 */
export function clientSilent(client: { holding: number; lastHeardMs: number }, nowMs: number, heartbeatMs: number): boolean {
  return client.holding > 0 && nowMs - client.lastHeardMs > SILENT_HEARTBEATS * heartbeatMs;
}
