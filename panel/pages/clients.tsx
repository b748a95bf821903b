import { useEffect, useState } from "preact/hooks";
import type { Client } from "../../gen/disio/v1/admin_service_pb.js";
import { ADAPTIVE_MIN_TRUST } from "../../core/adaptive-replication.js";
import { errorText } from "../api.js";
import { ago, count } from "../format.js";
import type { PageProps } from "../main.js";

/**
 * How often the list is read again while the page is visible. There is no stream of client
 * verdicts (WatchStats carries none), so the page polls ListClients: every 5 s while the tab is
 * shown, at once when it is shown again, never while it is hidden.
 */
const REFRESH_MS = 5_000;

/** Where a client stands: may stand alone, earning trust, or caught wrong since its last check. */
function standing(c: Pick<Client, "trust" | "wrong">): "trusted" | "earning" | "distrusted" {
  if (c.trust === 0n && c.wrong > 0n) return "distrusted";
  return c.trust >= BigInt(ADAPTIVE_MIN_TRUST) ? "trusted" : "earning";
}

const BADGE = { trusted: "ok", earning: "new", distrusted: "failed" } as const;

/** `#/clients`: every client identity the manager judged, by trust: validated and wrong results, last seen. */
export function ClientsPage({ admin, stats }: PageProps) {
  const [clients, setClients] = useState<Client[]>();
  const [error, setError] = useState<string>();
  const [readAt, setReadAt] = useState<number>();
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const read = () => {
      clearTimeout(timer);
      if (stopped || document.hidden) return;
      admin
        .listClients({ pageSize: 1000 })
        .then((r) => {
          setClients(r.clients.slice().sort((a, b) => Number(b.trust - a.trust) || Number(b.validated - a.validated)));
          setReadAt(Date.now());
          setError(undefined);
        })
        .catch((e: unknown) => setError(errorText(e)))
        .finally(() => {
          if (!stopped) timer = setTimeout(read, REFRESH_MS);
        });
    };
    read();
    document.addEventListener("visibilitychange", read);
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", read);
    };
  }, [admin]);
  const names = new Map((stats?.distributors ?? []).map((d) => [d.id, d.name]));
  const top = Math.max(ADAPTIVE_MIN_TRUST, ...(clients ?? []).map((c) => Number(c.trust)));
  const trusted = (clients ?? []).filter((c) => standing(c) === "trusted").length;
  const distrusted = (clients ?? []).filter((c) => standing(c) === "distrusted").length;
  return (
    <section>
      <div class="page-head">
        <h1>Clients</h1>
        {readAt !== undefined && <span class="muted small">updated every 5 s while shown</span>}
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {clients === undefined ? (
        !error && <p class="muted">Loading…</p>
      ) : clients.length === 0 ? (
        <div class="card empty">
          <h2>No client judged yet</h2>
          <p class="muted">
            A client appears here once one of its results is checked: against another volunteer's (projects with <code>--replication 2 --quorum 2</code>) or against a
            canary's known answer (<code>disio units add --canaries</code> with a <code>--canary-rate</code>).
          </p>
        </div>
      ) : (
        <>
          <dl class="counts">
            <div class="count">
              <dt>clients</dt>
              <dd>{count(clients.length)}</dd>
            </div>
            <div class={`count${trusted > 0 ? " done" : ""}`}>
              <dt>trusted</dt>
              <dd>{count(trusted)}</dd>
            </div>
            <div class={`count${distrusted > 0 ? " failed" : ""}`}>
              <dt>caught wrong</dt>
              <dd>{count(distrusted)}</dd>
            </div>
          </dl>
          <div class="card table-card">
            <table class="clients">
              <thead>
                <tr>
                  <th>Client</th>
                  <th>Distributor</th>
                  <th class="grow">Trust</th>
                  <th class="num">Checked</th>
                  <th>Last seen</th>
                </tr>
              </thead>
              <tbody>
                {clients.map((c) => {
                  const where = standing(c);
                  return (
                    <tr key={`${c.distributorId}/${c.clientKey}`} data-client={c.clientKey}>
                      <td>
                        {c.clientKey === "anon" ? (
                          <span class="muted">anonymous</span>
                        ) : (
                          <span class="mono strong nowrap" title={c.clientKey}>
                            {c.clientKey.length > 12 ? `${c.clientKey.slice(0, 10)}…` : c.clientKey}
                          </span>
                        )}
                        <div class="muted small phone-only">{ago(c.lastSeenTime)}</div>
                      </td>
                      <td>
                        {names.get(c.distributorId) ?? c.distributorId} <span class="muted small mono">{c.distributorId}</span>
                      </td>
                      <td class="grow">
                        <div class="trust">
                          <span class="trust-figure" data-trust>
                            {count(c.trust)}
                          </span>
                          <span class={`badge ${BADGE[where]}`}>{where === "distrusted" ? "caught wrong" : where}</span>
                        </div>
                        <div class="bar small-bar" title={`${count(c.trust)} validated in a row; ${ADAPTIVE_MIN_TRUST} lets results stand alone under adaptive replication`}>
                          <span class="done" style={{ width: `${(Number(c.trust) / top) * 100}%` }} />
                        </div>
                      </td>
                      <td class="num">
                        <span class="ok-figure">{count(c.validated)} ✓</span>
                        <span class={c.wrong > 0n ? "bad-figure" : "muted"}> · {count(c.wrong)} ✗</span>
                      </td>
                      <td class="nowrap">{ago(c.lastSeenTime)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <p class="muted small">
            Trust is a client's validated results in a row since its last wrong one (a wrong one sets it to 0), per distributor that vouches for it. From{" "}
            {ADAPTIVE_MIN_TRUST}, weighed by its distributor's record, its results may stand alone in projects with adaptive replication.
          </p>
        </>
      )}
    </section>
  );
}
