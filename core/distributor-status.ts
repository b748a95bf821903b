/** A distributor's standing, as AdminService reports it. */
export type DistributorStatus = "new" | "online" | "offline" | "draining" | "revoked";

/** Missed heartbeats after which a distributor counts as offline. */
export const MISSED_HEARTBEATS_OFFLINE = 3;

/**
 * A distributor's status: revoked wins, then draining, then new (never registered), then online
 * when heard from within {@link MISSED_HEARTBEATS_OFFLINE} heartbeat intervals, else offline.
 */
export function distributorStatus(
  d: { revoked: boolean; draining: boolean; registered: boolean; lastSeenMs: number | undefined },
  nowMs: number,
  heartbeatIntervalMs: number,
): DistributorStatus {
  if (d.revoked) return "revoked";
  if (d.draining) return "draining";
  if (!d.registered) return "new";
  if (d.lastSeenMs !== undefined && nowMs - d.lastSeenMs <= MISSED_HEARTBEATS_OFFLINE * heartbeatIntervalMs) {
    return "online";
  }
  return "offline";
}
