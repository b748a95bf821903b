import type { UnitCounts } from "../gen/disio/v1/admin_service_pb.js";
import { count } from "./format.js";

/** A project's progress: done, failed and the rest, as a stacked bar with the figures. */
export function Progress({ counts }: { counts: UnitCounts | undefined }) {
  const total = Number(counts?.total ?? 0n);
  const done = Number(counts?.done ?? 0n);
  const failed = Number((counts?.failed ?? 0n) + (counts?.expired ?? 0n) + (counts?.cancelled ?? 0n));
  const pct = (n: number) => (total > 0 ? (n * 100) / total : 0);
  return (
    <div class="progress" role="progressbar" aria-valuemin={0} aria-valuemax={total} aria-valuenow={done}>
      <div class="bar">
        <span class="done" style={{ width: `${pct(done)}%` }} />
        <span class="failed" style={{ width: `${pct(failed)}%` }} />
      </div>
      <span class="small muted">
        {count(done)} / {count(total)} done{failed > 0 ? ` · ${count(failed)} not done` : ""} · {total > 0 ? Math.floor(pct(done)) : 0}%
      </span>
    </div>
  );
}

/** A state as a coloured badge; a finished project with failed units says so. */
export function StateBadge({ state, failed = 0 }: { state: string; failed?: number }) {
  const text = state === "done" && failed > 0 ? `done · ${count(failed)} failed` : state;
  return <span class={`badge ${state}${failed > 0 && state === "done" ? " warn" : ""}`}>{text}</span>;
}
