import { useState } from "preact/hooks";
import { DistributorStatus } from "../../gen/disio/v1/admin_service_pb.js";
import { errorText } from "../api.js";
import { ago, count, label } from "../format.js";
import type { PageProps } from "../main.js";

/** `#/distributors`: status, region, clients, held copies, load, last heartbeat; add (token shown once), drain, revoke. */
export function DistributorsPage({ admin, stats }: PageProps) {
  const [error, setError] = useState<string>();
  const [created, setCreated] = useState<{ name: string; token: string }>();
  const [copied, setCopied] = useState(false);
  const distributors = stats?.distributors ?? [];
  const act = (promise: Promise<unknown>) => promise.catch((e: unknown) => setError(errorText(e)));
  return (
    <section>
      <div class="page-head">
        <h1>Distributors</h1>
      </div>
      {error && (
        <p class="error" role="alert">
          {error} <button class="link" onClick={() => setError(undefined)}>dismiss</button>
        </p>
      )}
      <form
        class="card inline-form wrap"
        aria-label="add distributor"
        onSubmit={(e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget);
          const name = String(form.get("name") ?? "");
          void act(
            admin.createDistributor({ name, region: String(form.get("region") ?? "") }).then((r) => {
              setCopied(false);
              setCreated({ name, token: r.token });
            }),
          );
          e.currentTarget.reset();
        }}
      >
        <h2>Add a distributor</h2>
        <input name="name" aria-label="distributor name" placeholder="name, e.g. edge-1" required />
        <input name="region" aria-label="region" placeholder="region, e.g. eu-west" />
        <button class="primary" type="submit">
          Add
        </button>
      </form>
      {created && (
        <div class="card token" role="status">
          <h2>Token for {created.name}</h2>
          <p class="muted small">Shown this once: the manager keeps only its hash. Start the distributor with it:</p>
          <div class="token-row">
            <code class="mono" data-token>
              {created.token}
            </code>
            <button
              onClick={() => {
                void navigator.clipboard?.writeText(created.token).then(() => setCopied(true), () => undefined);
              }}
            >
              {copied ? "Copied" : "Copy"}
            </button>
          </div>
          <pre class="mono small">disio distributor --manager {location.origin} --token {created.token}</pre>
          <button class="link" onClick={() => setCreated(undefined)}>
            Done
          </button>
        </div>
      )}
      {distributors.length === 0 ? (
        <div class="card empty">
          <h2>No distributors</h2>
          <p class="muted">Distributors lease work from this manager and stream it to browsers and workers. Add one above.</p>
        </div>
      ) : (
        <div class="card table-card">
          <table>
            <thead>
              <tr>
                <th>Distributor</th>
                <th>Status</th>
                <th>Region</th>
                <th class="num">Clients</th>
                <th class="num">Held copies</th>
                <th class="grow">Load</th>
                <th>Last heartbeat</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {distributors.map((d) => {
                const live = d.status === DistributorStatus.ONLINE || d.status === DistributorStatus.DRAINING;
                const load = d.capacity > 0 ? Math.min(1, d.heldCopies / d.capacity) : 0;
                return (
                  <tr key={d.id} data-distributor={d.name}>
                    <td>
                      <span class="strong">{d.name}</span>
                      <div class="muted small mono">
                        {d.id}
                        {d.publicUrl ? ` · ${d.publicUrl}` : ""}
                      </div>
                    </td>
                    <td>
                      <span class={`badge ${label.distributor(d.status)}`}>{label.distributor(d.status)}</span>
                    </td>
                    <td>{d.region || "–"}</td>
                    <td class="num">{live ? count(d.clients) : "–"}</td>
                    <td class="num">{live ? count(d.heldCopies) : "–"}</td>
                    <td class="grow">
                      {live && d.capacity > 0 ? (
                        <div class="bar small-bar" title={`${count(d.heldCopies)} of ${count(d.capacity)}`}>
                          <span class="done" style={{ width: `${load * 100}%` }} />
                        </div>
                      ) : (
                        "–"
                      )}
                    </td>
                    <td>{ago(d.lastSeenTime)}</td>
                    <td class="actions">
                      {d.status !== DistributorStatus.REVOKED && d.status !== DistributorStatus.DRAINING && (
                        <button onClick={() => act(admin.drainDistributor({ id: d.id }))}>Drain</button>
                      )}
                      {d.status !== DistributorStatus.REVOKED && (
                        <button class="danger" onClick={() => confirm(`Revoke ${d.name}? Its token stops working and the copies it holds go back to the queue.`) && act(admin.revokeDistributor({ id: d.id }))}>
                          Revoke
                        </button>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
