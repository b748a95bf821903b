/**
 * Most empty heartbeat Reports a distributor asks of all its clients together, per second. Each
 * client heartbeats once per interval when it sent no Report for that long, so 10,000 clients at
 * a 10 s interval sent 1,000 Reports a second doing nothing: more of a core than their results.
 */
export const MAX_HEARTBEATS_PER_SECOND = 200;

/**
 * The heartbeat interval a distributor tells a joining client, ms: its configured interval, or
 * longer when it knows so many clients that their heartbeats would pass
 * {@link MAX_HEARTBEATS_PER_SECOND}. A longer interval only delays noticing a frozen idle client
 * (three intervals); a frozen client's tasks come back at the end of their client lease anyway.
 */
export function clientHeartbeatMs(configuredMs: number, knownClients: number): number {
  return Math.max(configuredMs, Math.ceil((knownClients * 1000) / MAX_HEARTBEATS_PER_SECOND));
}
