/** Heartbeat intervals a client may stay silent before it is taken for dead. */
export const SILENT_HEARTBEATS = 3;

/**
 * Whether a client has been silent so long that it is taken for dead (frozen, suspended, its
 * machine gone while the connection stays open): no Report (results or an empty heartbeat) for
 * {@link SILENT_HEARTBEATS} heartbeat intervals. Idle clients heartbeat too: a frozen idle client
 * would otherwise count as connected for as long as its connection stays open.
 */
export function clientSilent(client: { lastHeardMs: number }, nowMs: number, heartbeatMs: number): boolean {
  return nowMs - client.lastHeardMs > SILENT_HEARTBEATS * heartbeatMs;
}
