import { durationMs, timestampDate } from "@bufbuild/protobuf/wkt";
import type { Duration, Timestamp } from "@bufbuild/protobuf/wkt";
import { ProjectState, UnitState, Outcome } from "../gen/disio/v1/common_pb.js";
import { DistributorStatus } from "../gen/disio/v1/admin_service_pb.js";

/** `1h 02m`, `3m 05s`, `12s`, `850 ms`. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "–";
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const two = (big: number, bigUnit: string, small: number, smallUnit: string) => (small === 0 ? `${big}${bigUnit}` : `${big}${bigUnit} ${String(small).padStart(2, "0")}${smallUnit}`);
  if (s < 3600) return two(Math.floor(s / 60), "m", s % 60, "s");
  if (s < 86_400) return two(Math.floor(s / 3600), "h", Math.floor((s % 3600) / 60), "m");
  return two(Math.floor(s / 86_400), "d", Math.floor((s % 86_400) / 3600), "h");
}

/** A duration message as text. */
export function formatDuration(d: Duration | undefined): string {
  return d ? formatMs(durationMs(d)) : "–";
}

/** A timestamp as local date and time, or "–". */
export function formatTime(t: Timestamp | undefined): string {
  return t ? timestampDate(t).toLocaleString() : "–";
}

/** How long ago a timestamp was. */
export function ago(t: Timestamp | undefined, now = Date.now()): string {
  return t ? `${formatMs(Math.max(0, now - timestampDate(t).getTime()))} ago` : "never";
}

/** 12,345 */
export function count(n: bigint | number): string {
  return Number(n).toLocaleString("en");
}

/** Enum labels without their prefix, lower-case. */
export const label = {
  project: (s: ProjectState) => ProjectState[s].toLowerCase(),
  unit: (s: UnitState) => UnitState[s].toLowerCase(),
  outcome: (o: Outcome) => Outcome[o].toLowerCase(),
  distributor: (s: DistributorStatus) => DistributorStatus[s].toLowerCase(),
};
