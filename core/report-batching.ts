/**
 * When a distributor should send buffered results to its manager: a full batch goes at once, a
 * partial batch waits at most one flush interval, so results arrive in few large messages without
 * lingering.
 */

/** What is buffered now. */
export interface ReportBacklog {
  /** Results stored and not yet acknowledged by a manager. */
  pending: number;
  /** When the oldest of them was stored (or the last flush ended, whichever is later), ms. */
  sinceMs: number;
}

/** Batch settings of {@link reportBatching}. */
export interface ReportBatchSettings {
  /** Most results per Report (already capped by the manager's max_report_batch). */
  reportBatch: number;
  /** Longest a partial batch waits before it is sent, ms. */
  flushIntervalMs: number;
}

/** Send `count` results now, or check again in `waitMs` (or when results arrive). */
export type ReportDecision = { send: number } | { waitMs: number };

/** Decides whether to flush now and how many results to send. */
export function reportBatching(backlog: ReportBacklog, nowMs: number, settings: ReportBatchSettings): ReportDecision {
  if (backlog.pending <= 0) return { waitMs: settings.flushIntervalMs };
  if (backlog.pending >= settings.reportBatch) return { send: settings.reportBatch };
  const waited = nowMs - backlog.sinceMs;
  if (waited >= settings.flushIntervalMs) return { send: backlog.pending };
  return { waitMs: settings.flushIntervalMs - waited };
}
