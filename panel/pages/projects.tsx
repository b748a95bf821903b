import { create } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { useEffect, useState } from "preact/hooks";
import { CreateProjectRequestSchema, type Project, type ProjectStats } from "../../gen/disio/v1/admin_service_pb.js";
import { ProjectState } from "../../gen/disio/v1/common_pb.js";
import { errorText } from "../api.js";
import { count, formatDuration, label } from "../format.js";
import type { PageProps } from "../main.js";
import { Progress, StateBadge } from "../widgets.js";

/** `#/projects`: every project with state, progress, rate and ETA; create, pause, resume, delete, edit priority and deadline. */
export function ProjectsPage({ admin, stats }: PageProps) {
  const [projects, setProjects] = useState<Project[]>([]);
  const [error, setError] = useState<string>();
  const [creating, setCreating] = useState(false);
  const reload = () =>
    admin
      .listProjects({ pageSize: 1000 })
      .then((r) => setProjects(r.projects))
      .catch((e: unknown) => setError(errorText(e)));
  useEffect(() => void reload(), []);
  // A project created elsewhere (the CLI) shows up in the stats stream first: read the list again.
  const known = new Set(projects.map((p) => p.id));
  const missing = stats?.projects.some((p) => !known.has(p.projectId)) ?? false;
  useEffect(() => void (missing && reload()), [missing]);
  const live = new Map((stats?.projects ?? []).map((p) => [p.projectId, p]));

  const act = (promise: Promise<unknown>) => promise.then(reload, (e: unknown) => setError(errorText(e)));
  return (
    <section>
      <div class="page-head">
        <h1>Projects</h1>
        <button class="primary" onClick={() => setCreating(!creating)}>
          {creating ? "Close" : "New project"}
        </button>
      </div>
      {error && (
        <p class="error" role="alert">
          {error} <button class="link" onClick={() => setError(undefined)}>dismiss</button>
        </p>
      )}
      {creating && <CreateProject admin={admin} onCreated={() => (setCreating(false), reload())} />}
      {projects.length === 0 ? (
        <div class="card empty">
          <h2>No projects yet</h2>
          <p class="muted">A project is one JavaScript function and a pile of inputs. Create one with “New project”, or from a terminal: <code>disio project create --name squares --program work.js</code></p>
        </div>
      ) : (
        <div class="card table-card">
          <table class="projects">
            <thead>
              <tr>
                <th>Project</th>
                <th>State</th>
                <th class="grow">Progress</th>
                <th class="num">Units/s</th>
                <th class="num">ETA</th>
                <th class="num">Priority</th>
                <th>Deadline</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {projects.map((p) => (
                <ProjectRow key={p.id} project={p} live={live.get(p.id)} act={act} admin={admin} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function ProjectRow({ project, live, act, admin }: { project: Project; live: ProjectStats | undefined; act: (p: Promise<unknown>) => void; admin: PageProps["admin"] }) {
  const counts = live?.counts ?? project.counts;
  const state = live?.state ?? project.state;
  const deadline = project.deadline ? timestampDate(project.deadline) : undefined;
  return (
    <tr data-project={project.name}>
      <td>
        <a class="strong" href={`#/projects/${project.id}`}>
          {project.name}
        </a>
        <div class="muted small mono">{project.id}</div>
      </td>
      <td>
        <StateBadge state={label.project(state)} failed={Number(counts?.failed ?? 0n)} />
      </td>
      <td class="grow">
        <Progress counts={counts} />
      </td>
      <td class="num">{live ? live.unitsPerSecond.toFixed(1) : "–"}</td>
      <td class="num">{live?.eta && counts && counts.queued + counts.running > 0n ? formatDuration(live.eta) : "–"}</td>
      <td class="num">
        <input
          class="inline num"
          type="number"
          aria-label={`priority of ${project.name}`}
          value={project.priority}
          onChange={(e) => act(admin.updateProject({ id: project.id, priority: Number(e.currentTarget.value) }))}
        />
      </td>
      <td>
        <input
          class="inline"
          type="datetime-local"
          aria-label={`deadline of ${project.name}`}
          value={deadline ? toLocalInput(deadline) : ""}
          onChange={(e) => {
            const value = e.currentTarget.value;
            act(admin.updateProject(value ? { id: project.id, deadline: timestampFromDate(new Date(value)) } : { id: project.id, clearDeadline: true }));
          }}
        />
      </td>
      <td class="actions">
        {state === ProjectState.ACTIVE && <button onClick={() => act(admin.updateProject({ id: project.id, state: ProjectState.PAUSED }))}>Pause</button>}
        {state === ProjectState.PAUSED && <button onClick={() => act(admin.updateProject({ id: project.id, state: ProjectState.ACTIVE }))}>Resume</button>}
        <button
          class="danger"
          onClick={() => {
            if (confirm(`Delete project “${project.name}” with its ${count(counts?.total ?? 0n)} units and their results? This cannot be undone.`)) act(admin.deleteProject({ id: project.id }));
          }}
        >
          Delete
        </button>
      </td>
    </tr>
  );
}

/** A Date as the value of a datetime-local input (local time, minutes). */
function toLocalInput(date: Date): string {
  const local = new Date(date.getTime() - date.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 16);
}

function CreateProject({ admin, onCreated }: { admin: PageProps["admin"]; onCreated: () => void }) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (form: HTMLFormElement) => {
    const data = new FormData(form);
    const file = data.get("program") as File | null;
    if (!file || file.size === 0) return setError("Choose the program file: an ES module whose default export is async work(input, ctx).");
    const number = (name: string) => (data.get(name) ? Number(data.get(name)) : undefined);
    const deadline = data.get("deadline") as string;
    setBusy(true);
    try {
      await admin.createProject(
        create(CreateProjectRequestSchema, {
          name: String(data.get("name") ?? ""),
          programSource: await file.text(),
          replication: number("replication"),
          quorum: number("quorum"),
          maxAttempts: number("maxAttempts"),
          leaseTimeout: number("leaseTimeout") ? { seconds: BigInt(number("leaseTimeout")!), nanos: 0 } : undefined,
          deadline: deadline ? timestampFromDate(new Date(deadline)) : undefined,
          priority: number("priority") ?? 0,
          adaptiveReplication: data.get("adaptiveReplication") === "on",
          canaryRate: number("canaryRate") ?? 0,
        }),
      );
      onCreated();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      class="card form-grid"
      aria-label="new project"
      onSubmit={(e) => {
        e.preventDefault();
        void submit(e.currentTarget);
      }}
    >
      <h2 class="span-all">New project</h2>
      <label class="span-2">
        Name
        <input name="name" required placeholder="squares" />
      </label>
      <label class="span-2">
        Program (ES module, .js)
        <input name="program" type="file" accept=".js,.mjs,text/javascript" required />
      </label>
      <label>
        Replication
        <input name="replication" type="number" min="1" placeholder="1" />
      </label>
      <label>
        Quorum
        <input name="quorum" type="number" min="1" placeholder="1" />
      </label>
      <label>
        Max attempts
        <input name="maxAttempts" type="number" min="1" placeholder="replication + 2" />
      </label>
      <label>
        Lease timeout (s)
        <input name="leaseTimeout" type="number" min="1" placeholder="60" />
      </label>
      <label>
        Deadline
        <input name="deadline" type="datetime-local" />
      </label>
      <label>
        Priority
        <input name="priority" type="number" placeholder="0" />
      </label>
      <label title="Share of leased copies that bring a canary (a unit with a known answer) along. Add canaries with: disio units add --canaries">
        Canary rate (0–1)
        <input name="canaryRate" type="number" min="0" max="1" step="any" placeholder="0: none" />
      </label>
      <label class="check" title="A unit goes out as one copy first; a trusted client's result may stand alone. Needs quorum 2 or more.">
        <input name="adaptiveReplication" type="checkbox" />
        Adaptive replication
      </label>
      {error && (
        <p class="error span-all" role="alert">
          {error}
        </p>
      )}
      <div class="span-all">
        <button class="primary" type="submit" disabled={busy}>
          {busy ? "Creating…" : "Create project"}
        </button>
      </div>
    </form>
  );
}
