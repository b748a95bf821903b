import { durationMs } from "@bufbuild/protobuf/wkt";
import { useMemo } from "preact/hooks";
import uPlot from "uplot";
import type { LifespanStats } from "../../gen/disio/v1/admin_service_pb.js";
import { Chart } from "../chart.js";
import { count, formatDuration, formatMs } from "../format.js";
import type { PageProps } from "../main.js";

/** What the lifespans mean for sizing units, in a sentence. */
export function sizingAdvice(l: LifespanStats): string {
  const median = l.median ? durationMs(l.median) : 0;
  const p90 = l.p90 ? durationMs(l.p90) : 0;
  if (Number(l.clients) === 0) return "No visitor has come and gone yet: the figures appear as clients leave.";
  return `Half your visitors stay longer than ${formatMs(median)}, and 90% leave within ${formatMs(p90)}. Units that take under ${formatMs(median / 4)} finish for most visitors; longer ones are often cut off and computed again elsewhere.`;
}

/** `#/visitors`: the client lifespan histogram with mode, mean, median and p90, overall and per distributor. */
export function VisitorsPage({ stats }: PageProps) {
  const life = stats?.clientLifespan;
  const buckets = life?.buckets ?? [];
  const data = useMemo(() => [buckets.map((_, i) => i), buckets.map((b) => Number(b.clients))] as [number[], number[]], [stats]);
  const names = new Map((stats?.distributors ?? []).map((d) => [d.id, d.name]));
  const bucketLabel = (i: number) => {
    const bound = buckets[i]?.upperBound;
    const previous = buckets[i - 1]?.upperBound;
    return bound ? `<${formatDuration(bound)}` : `≥${formatDuration(previous)}`;
  };
  return (
    <section>
      <div class="page-head">
        <h1>Visitors</h1>
      </div>
      {!life ? (
        <p class="muted">Loading…</p>
      ) : (
        <>
          <div class="card">
            <p class="advice" data-advice>
              {sizingAdvice(life)}
            </p>
            <dl class="counts">
              <div class="count">
                <dt>clients measured</dt>
                <dd>{count(life.clients)}</dd>
              </div>
              <div class="count">
                <dt>mode</dt>
                <dd>{life.clients > 0n ? formatDuration(life.mode) : "–"}</dd>
              </div>
              <div class="count">
                <dt>mean</dt>
                <dd>{life.clients > 0n ? formatDuration(life.mean) : "–"}</dd>
              </div>
              <div class="count">
                <dt>median</dt>
                <dd>{life.clients > 0n ? formatDuration(life.median) : "–"}</dd>
              </div>
              <div class="count">
                <dt>p90</dt>
                <dd>{life.clients > 0n ? formatDuration(life.p90) : "–"}</dd>
              </div>
            </dl>
          </div>
          <div class="card">
            <h2>How long clients stay</h2>
            <Chart
              label="client lifespan histogram"
              data={data}
              height={220}
              options={{
                series: [{}, { label: "clients", fill: "rgba(79,70,229,0.55)", stroke: "#4f46e5", paths: uPlot.paths.bars!({ size: [0.8, 60] }), points: { show: false } }],
                scales: { x: { time: false, range: [-0.5, Math.max(0.5, buckets.length - 0.5)] }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
                axes: [
                  { stroke: "#64748b", values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? bucketLabel(t) : "")), space: 40 },
                  { stroke: "#64748b", size: 50 },
                ],
                legend: { show: false },
              }}
            />
            <p class="muted small">Clients by time from joining to their last report, most recent 10,000.</p>
          </div>
          <div class="card table-card">
            <h2>Per distributor</h2>
            <table>
              <thead>
                <tr>
                  <th>Distributor</th>
                  <th class="num">Clients</th>
                  <th class="num">Mode</th>
                  <th class="num">Mean</th>
                  <th class="num">Median</th>
                  <th class="num">p90</th>
                </tr>
              </thead>
              <tbody>
                {Object.keys(stats?.distributorLifespans ?? {}).length === 0 && (
                  <tr>
                    <td colSpan={6} class="muted">
                      No client has left a distributor yet.
                    </td>
                  </tr>
                )}
                {Object.entries(stats?.distributorLifespans ?? {}).map(([id, l]) => (
                  <tr key={id}>
                    <td>
                      {names.get(id) ?? id} <span class="muted small mono">{id}</span>
                    </td>
                    <td class="num">{count(l.clients)}</td>
                    <td class="num">{formatDuration(l.mode)}</td>
                    <td class="num">{formatDuration(l.mean)}</td>
                    <td class="num">{formatDuration(l.median)}</td>
                    <td class="num">{formatDuration(l.p90)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
