import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import type { GetStatsResponse } from "../gen/disio/v1/admin_service_pb.js";
import { adminClient, errorText, forgetToken, isRefused, keepStreaming, saveToken, takeToken, type Admin } from "./api.js";
import { ClientsPage } from "./pages/clients.js";
import { DistributorsPage } from "./pages/distributors.js";
import { ProjectPage } from "./pages/project.js";
import { ProjectsPage } from "./pages/projects.js";
import { VisitorsPage } from "./pages/visitors.js";
import { SignIn } from "./sign-in.js";
import { useRoute } from "./route.js";
import "uplot/dist/uPlot.min.css";
import "./style.css";

/** What every page gets: the client and the latest WatchStats picture. */
export interface PageProps {
  admin: Admin;
  stats: GetStatsResponse | undefined;
}

function App() {
  const [token, setToken] = useState<string | undefined>(() => takeToken());
  const [refused, setRefused] = useState<string | undefined>();
  const [stats, setStats] = useState<GetStatsResponse | undefined>();
  const [live, setLive] = useState<{ up: boolean; why?: string }>({ up: false });
  const admin = useMemo(() => (token ? adminClient(token) : undefined), [token]);
  const route = useRoute();

  useEffect(() => {
    if (!admin) return;
    const stop = new AbortController();
    const signOut = () => {
      forgetToken();
      setRefused("The manager refused this token. Check it and sign in again.");
      setToken(undefined);
    };
    admin.getInfo({}).catch((error: unknown) => (isRefused(error) ? signOut() : undefined));
    void keepStreaming(
      (signal) => admin.watchStats({ interval: { seconds: 1n, nanos: 0 } }, { signal }),
      (update) => {
        if (!update.stats) return;
        setStats(update.stats);
      },
      { signal: stop.signal, onLive: (up, error) => setLive({ up, why: error === undefined ? undefined : errorText(error) }), onRefused: signOut },
    );
    return () => stop.abort();
  }, [admin]);

  if (!token || !admin) {
    return (
      <SignIn
        error={refused}
        onToken={(t) => {
          saveToken(t);
          setRefused(undefined);
          setToken(t);
          if (!location.hash.startsWith("#/")) location.hash = "#/projects";
        }}
      />
    );
  }
  const props: PageProps = { admin, stats };
  return (
    <div class="app">
      <header class="topbar">
        <a class="brand" href="#/projects">
          <span class="logo">◆</span> dis.io
        </a>
        <nav>
          <a href="#/projects" class={route.page === "projects" || route.page === "project" ? "active" : ""}>Projects</a>
          <a href="#/distributors" class={route.page === "distributors" ? "active" : ""}>Distributors</a>
          <a href="#/clients" class={route.page === "clients" ? "active" : ""}>Clients</a>
          <a href="#/visitors" class={route.page === "visitors" ? "active" : ""}>Visitors</a>
        </nav>
        <span class={`live ${live.up ? "up" : "down"}`} title={live.why ?? ""}>
          {live.up ? `live · ${stats?.connectedClients ?? 0} clients` : "reconnecting…"}
        </span>
        <button
          class="link signout"
          onClick={() => {
            forgetToken();
            setToken(undefined);
          }}
        >
          Sign out
        </button>
      </header>
      <main>
        {route.page === "project" ? (
          <ProjectPage {...props} id={route.id} />
        ) : route.page === "distributors" ? (
          <DistributorsPage {...props} />
        ) : route.page === "clients" ? (
          <ClientsPage {...props} />
        ) : route.page === "visitors" ? (
          <VisitorsPage {...props} />
        ) : (
          <ProjectsPage {...props} />
        )}
      </main>
    </div>
  );
}

render(<App />, document.getElementById("app")!);
