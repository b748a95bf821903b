import { timestampMs } from "@bufbuild/protobuf/wkt";
import { useEffect, useMemo, useState } from "preact/hooks";
import type { Project, Result, Unit } from "../../gen/disio/v1/admin_service_pb.js";
import { Encoding, UnitState } from "../../gen/disio/v1/common_pb.js";
import { errorText, keepStreaming } from "../api.js";
import { Chart } from "../chart.js";
import { count, formatDuration, formatTime, label } from "../format.js";
import type { PageProps } from "../main.js";
import { Progress, StateBadge } from "../widgets.js";
import { addNdjsonFile } from "../add-ndjson-file.js";
import { throughputSeries } from "../throughput-series.js";

const decoder = new TextDecoder();
const LATEST = 20;

/** Bytes as they should be shown: JSON text, or base64 for bytes projects. */
function shown(bytes: Uint8Array, encoding: Encoding): string {
  if (bytes.byteLength === 0) return "–";
  return encoding === Encoding.BYTES ? btoa(String.fromCharCode(...bytes.slice(0, 3000))) : decoder.decode(bytes);
}

/** `#/projects/ID`: counts by state, throughput, add units, latest results, download, units and their copies. */
export function ProjectPage({ admin, stats, id }: PageProps & { id: string }) {
  const [project, setProject] = useState<Project>();
  const [error, setError] = useState<string>();
  const [latest, setLatest] = useState<Result[]>([]);
  const live = stats?.projects.find((p) => p.projectId === id);
  const reload = () =>
    admin
      .getProject({ id })
      .then((r) => setProject(r.project))
      .catch((e: unknown) => setError(errorText(e)));
  useEffect(() => void reload(), [id]);

  // The latest results: the last few from ListResults, then WatchResults from there (resumed from
  // the last cursor after a reconnect), so a large project is not streamed from its start.
  useEffect(() => {
    const stop = new AbortController();
    let cursor: string | undefined;
    let kept: Result[] = [];
    void keepStreaming(
      async function* (signal) {
        if (cursor === undefined) {
          const page = await admin.listResults({ projectId: id, latest: true, pageSize: LATEST }, { signal });
          cursor = page.nextCursor;
          yield { results: page.results, cursor };
        }
        yield* admin.watchResults({ projectId: id, cursor }, { signal });
      },
      (batch) => {
        cursor = batch.cursor || cursor;
        if (batch.results.length === 0) return;
        kept = [...batch.results.slice(-LATEST).reverse(), ...kept].slice(0, LATEST);
        setLatest(kept);
      },
      { signal: stop.signal },
    );
    return () => stop.abort();
  }, [id]);

  const data = useMemo(() => throughputSeries(live, stats?.time ? timestampMs(stats.time) : Date.now()), [stats]);
  if (!project) return <section>{error ? <p class="error">{error}</p> : <p class="muted">Loading…</p>}</section>;
  const counts = live?.counts ?? project.counts;
  const act = (promise: Promise<unknown>) => promise.then(reload, (e: unknown) => setError(errorText(e)));
  return (
    <section>
      <div class="page-head">
        <div>
          <a class="muted small" href="#/projects">
            ← Projects
          </a>
          <h1>
            {project.name} <StateBadge state={label.project(live?.state ?? project.state)} failed={Number(counts?.failed ?? 0n)} />
          </h1>
          <div class="muted small mono">
            {project.id} · program {project.programHash.slice(0, 12)}… · replication {project.replication}, quorum {project.quorum}, {project.maxAttempts} attempts
            {project.adaptiveReplication ? " · adaptive replication" : ""}
            {project.canaryRate > 0 ? ` · canary rate ${project.canaryRate}` : ""}
          </div>
        </div>
      </div>
      {error && (
        <p class="error" role="alert">
          {error} <button class="link" onClick={() => setError(undefined)}>dismiss</button>
        </p>
      )}
      <div class="grid-2">
        <div class="card">
          <h2>Units</h2>
          <Progress counts={counts} />
          <dl class="counts">
            {(["queued", "running", "done", "failed", "expired", "cancelled"] as const).map((state) => (
              <div key={state} class={`count ${state}`}>
                <dt>{state}</dt>
                <dd data-count={state}>{count(counts?.[state] ?? 0n)}</dd>
              </div>
            ))}
          </dl>
          <p class="muted small">
            {live ? `${count(live.unitsComputing)} being computed by clients · ${count(live.copiesHeld)} copies held at distributors · ${live.unitsPerSecond.toFixed(1)} units/s${counts && counts.queued + counts.running > 0n ? ` · ETA ${live.eta ? formatDuration(live.eta) : "–"}` : ""}` : "waiting for live figures…"}
          </p>
          <div class="buttons">
            <button disabled={!counts?.failed} onClick={() => act(admin.requeueUnits({ projectId: id, state: UnitState.FAILED }))}>
              Requeue failed
            </button>
            <button
              class="danger"
              disabled={!(counts && counts.queued + counts.running > 0n)}
              onClick={() => confirm("Cancel every open unit of this project?") && act(admin.cancelUnits({ projectId: id }))}
            >
              Cancel open units
            </button>
          </div>
        </div>
        <div class="card">
          <h2>Throughput</h2>
          <Chart
            label="units per second over the last hour"
            data={data}
            height={180}
            options={{
              series: [{}, { label: "units/s", stroke: "#4f46e5", fill: "rgba(79,70,229,0.12)", width: 2, points: { show: false } }],
              axes: [{ stroke: "#64748b" }, { stroke: "#64748b", size: 50 }],
              legend: { show: false },
              scales: {
                // At least the last minute on the time axis, so a handful of samples still reads as a timeline.
                x: { range: (_u, min, max) => [Math.min(min, max - 60), max] },
                y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
              },
            }}
          />
          <p class="muted small">Units finished per second, per minute over the last hour.</p>
        </div>
      </div>
      <AddUnits admin={admin} project={project} onAdded={reload} />
      <div class="card">
        <div class="card-head">
          <h2>Latest results</h2>
          <DownloadResults admin={admin} project={project} />
        </div>
        {latest.length === 0 ? (
          <p class="muted">No results yet. They appear here as units finish.</p>
        ) : (
          <div class="table-scroll">
            <table class="results">
              <thead>
                <tr>
                  <th>Unit</th>
                  <th>Input</th>
                  <th>Output</th>
                  <th>Finished</th>
                  <th class="num">Copies</th>
                </tr>
              </thead>
              <tbody>
                {latest.map((r) => (
                  <tr key={r.unitId}>
                    <td class="mono">{r.unitId}</td>
                    <td class="mono clip">{shown(r.input, project.inputEncoding)}</td>
                    <td class="mono clip">{shown(r.output, project.outputEncoding)}</td>
                    <td>{formatTime(r.finishTime)}</td>
                    <td class="num">{r.copiesSent}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      <FindUnit admin={admin} project={project} onChange={reload} />
    </section>
  );
}

function AddUnits({ admin, project, onAdded }: { admin: PageProps["admin"]; project: Project; onAdded: () => void }) {
  const [progress, setProgress] = useState<{ phase: string; fraction: number; units: number } | undefined>();
  const [message, setMessage] = useState<{ ok: boolean; text: string }>();
  const add = async (file: File) => {
    setMessage(undefined);
    try {
      const added = await addNdjsonFile(admin, project.id, file, (phase, fraction, units) => setProgress({ phase, fraction, units }));
      setMessage({ ok: true, text: `Added ${count(added)} units from ${file.name}.` });
      onAdded();
    } catch (e) {
      setMessage({ ok: false, text: errorText(e) });
    } finally {
      setProgress(undefined);
    }
  };
  return (
    <div class="card">
      <h2>Add units</h2>
      <p class="muted small">An NDJSON file: one JSON input per line. The whole file is checked first; a bad line adds nothing.</p>
      <input type="file" aria-label="units file" accept=".ndjson,.jsonl,.json,.txt" disabled={!!progress} onChange={(e) => e.currentTarget.files?.[0] && void add(e.currentTarget.files[0])} />
      {progress && (
        <div class="upload">
          <div class="bar">
            <span class="done" style={{ width: `${Math.round(progress.fraction * 100)}%` }} />
          </div>
          <span class="small muted">
            {progress.phase} · {count(progress.units)} units · {Math.round(progress.fraction * 100)}%
          </span>
        </div>
      )}
      {message && (
        <p class={message.ok ? "ok" : "error"} role="status">
          {message.text}
        </p>
      )}
    </div>
  );
}

function DownloadResults({ admin, project }: { admin: PageProps["admin"]; project: Project }) {
  const [busy, setBusy] = useState<string>();
  const download = async () => {
    const parts: string[] = [];
    let cursor = "";
    let rows = 0;
    for (;;) {
      const page = await admin.listResults({ projectId: project.id, cursor, pageSize: 10_000 });
      if (page.results.length === 0) break;
      for (const r of page.results) {
        parts.push(`{"unit":${JSON.stringify(r.unitId)},"input":${jsonOf(r.input, project.inputEncoding)},"output":${jsonOf(r.output, project.outputEncoding)},"cursor":${JSON.stringify(r.cursor)}}\n`);
      }
      rows += page.results.length;
      setBusy(`${count(rows)} rows…`);
      cursor = page.nextCursor;
    }
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob(parts, { type: "application/x-ndjson" }));
    link.download = `${project.name}-results.ndjson`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  };
  return (
    <button onClick={() => void download().finally(() => setBusy(undefined))} disabled={!!busy}>
      {busy ?? "Download all (NDJSON)"}
    </button>
  );
}

function jsonOf(bytes: Uint8Array, encoding: Encoding): string {
  return encoding === Encoding.BYTES ? JSON.stringify(shown(bytes, encoding)) : decoder.decode(bytes).replace(/[\r\n]+/g, " ");
}

function FindUnit({ admin, project, onChange }: { admin: PageProps["admin"]; project: Project; onChange: () => void }) {
  const [unitId, setUnitId] = useState("");
  const [unit, setUnit] = useState<Unit>();
  const [failed, setFailed] = useState<Unit[]>([]);
  const [error, setError] = useState<string>();
  const find = (id: string) =>
    admin
      .getUnit({ id: id.trim() })
      .then((r) => (setUnit(r.unit), setError(undefined)))
      .catch((e: unknown) => (setUnit(undefined), setError(errorText(e))));
  useEffect(() => {
    admin
      .listUnits({ projectId: project.id, state: UnitState.FAILED, pageSize: 10 })
      .then((r) => setFailed(r.units))
      .catch(() => undefined);
  }, [project.counts?.failed]);
  const act = (promise: Promise<unknown>) => promise.then(() => (find(unit!.id), onChange()), (e: unknown) => setError(errorText(e)));
  return (
    <div class="card">
      <h2>Find a unit</h2>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void find(unitId);
        }}
      >
        <input aria-label="unit id" placeholder="unit id, e.g. u3f" value={unitId} onInput={(e) => setUnitId(e.currentTarget.value)} />
        <button type="submit">Show</button>
      </form>
      {failed.length > 0 && (
        <p class="small">
          Failed units:{" "}
          {failed.map((u) => (
            <button key={u.id} class="link mono" onClick={() => (setUnitId(u.id), void find(u.id))}>
              {u.id}
            </button>
          ))}
        </p>
      )}
      {error && <p class="error">{error}</p>}
      {unit && (
        <div class="unit">
          <div class="unit-head">
            <span class="mono strong">{unit.id}</span> <StateBadge state={label.unit(unit.state)} />
            <span class="muted small">
              {unit.attempts} of {project.maxAttempts} attempts · {unit.copiesSent} copies sent
            </span>
            <span class="buttons">
              <button onClick={() => act(admin.requeueUnits({ projectId: project.id, unitIds: [unit.id] }))} disabled={unit.state === UnitState.QUEUED || unit.state === UnitState.RUNNING}>
                Requeue
              </button>
              <button class="danger" onClick={() => act(admin.cancelUnits({ projectId: project.id, unitIds: [unit.id] }))} disabled={unit.state !== UnitState.QUEUED && unit.state !== UnitState.RUNNING}>
                Cancel
              </button>
            </span>
          </div>
          {unit.error && <p class="error">{unit.error}</p>}
          <dl class="kv">
            <dt>Input</dt>
            <dd class="mono clip">{shown(unit.input, project.inputEncoding)}</dd>
            <dt>Output</dt>
            <dd class="mono clip">{shown(unit.output, project.outputEncoding)}</dd>
          </dl>
          <div class="table-scroll">
            <table class="copies">
              <thead>
                <tr>
                  <th>Copy</th>
                  <th>Distributor</th>
                  <th>Client</th>
                  <th>Sent</th>
                  <th>Received</th>
                  <th>Outcome</th>
                  <th>Error</th>
                </tr>
              </thead>
              <tbody>
                {unit.copies.map((c) => (
                  <tr key={c.id}>
                    <td class="mono">{c.id}</td>
                    <td class="mono">{c.distributorId || "–"}</td>
                    <td class="mono clip">{c.clientId || "–"}</td>
                    <td>{formatTime(c.sentTime)}</td>
                    <td>{formatTime(c.receiveTime)}</td>
                    <td>
                      <span class={`badge ${label.outcome(c.outcome)}`}>{label.outcome(c.outcome)}</span>
                    </td>
                    <td class="clip">{c.error || "–"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      )}
    </div>
  );
}
