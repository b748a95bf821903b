import type { GridRss, RssReading } from "./rss-watch.js";

/** What one chaos scenario measured, and whether that passes. Absent fields do not apply to it. */
export interface Verdict {
  scenario: string;
  /** Units in the run. */
  units?: number;
  /** Units not done, or done with a wrong output. */
  lost?: number;
  /** Extra result rows at the manager (a unit delivered twice). */
  duplicates?: number;
  /** Units FAILED (used up their attempts). */
  failed?: number;
  /** Longest time with no new unit done, s. */
  longestStallS?: number;
  /** The worst time until the grid recovered from a disturbance, s (see each scenario). */
  recoveryS?: number;
  /**
   * Requests sent by a flood, those answered with an HTTP status, those reset or never answered, and
   * the answers by server and status (e.g. `{ "manager 401": 24 }`).
   */
  requests?: { sent: number; answered: number; unanswered: number; statuses: Record<string, number> };
  /** Whether the servers still answered /healthz at the end. */
  healthy?: boolean;
  /** RSS of the manager and distributor, MiB. */
  rssMb: GridRss;
  /** Wall time of the scenario, s. */
  seconds: number;
  /** Why it fails; empty when it passes. */
  problems: string[];
  pass: boolean;
}

/** A bound a verdict must hold: the measured value, the limit, and a name for the failure text. */
export type Check = [name: string, value: number | undefined, limit: number];

/** The problems among `checks`: a value above its limit, or missing (never measured). */
export function failedChecks(checks: readonly Check[]): string[] {
  return checks.flatMap(([name, value, limit]) => (value === undefined ? [`${name} not measured`] : value > limit ? [`${name} ${round(value)} > ${limit}`] : []));
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function rss(reading: RssReading, peak: boolean): string {
  return `${Math.round(reading.beforeMb)}→${Math.round(reading.afterMb)} MB${peak ? ` (peak ${Math.round(reading.peakMb)})` : ""}`;
}

/**
 * The verdict as one line, e.g. `distributor-restart: units 6000, lost 0, duplicates 0, longest
 * stall 2.1 s, recovery 1.4 s, manager RSS 80→95 MB, distributor RSS 70→88 MB — PASS`.
 */
export function formatVerdict(verdict: Verdict): string {
  const parts: string[] = [];
  if (verdict.units !== undefined) parts.push(`units ${verdict.units}`);
  if (verdict.lost !== undefined) parts.push(`lost ${verdict.lost}`);
  if (verdict.duplicates !== undefined) parts.push(`duplicates ${verdict.duplicates}`);
  if (verdict.failed !== undefined) parts.push(`failed ${verdict.failed}`);
  if (verdict.longestStallS !== undefined) parts.push(`longest stall ${round(verdict.longestStallS)} s`);
  if (verdict.recoveryS !== undefined) parts.push(`recovery ${round(verdict.recoveryS)} s`);
  if (verdict.requests) {
    const statuses = Object.entries(verdict.requests.statuses).map(([status, count]) => `${status}×${count}`);
    parts.push(`requests ${verdict.requests.answered}/${verdict.requests.sent} answered (${statuses.join(", ")})`);
  }
  if (verdict.healthy !== undefined) parts.push(verdict.healthy ? "healthy after" : "NOT healthy after");
  const peak = verdict.requests !== undefined;
  parts.push(`manager RSS ${rss(verdict.rssMb.manager, peak)}`, `distributor RSS ${rss(verdict.rssMb.distributor, peak)}`);
  const outcome = verdict.pass ? "PASS" : `FAIL (${verdict.problems.join("; ")})`;
  return `${verdict.scenario}: ${parts.join(", ")} — ${outcome}`;
}
