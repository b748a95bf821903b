import { useEffect, useState } from "preact/hooks";

/** A page of the panel, from the URL fragment. */
export type Route = { page: "projects" } | { page: "project"; id: string } | { page: "distributors" } | { page: "clients" } | { page: "visitors" };

/** `#/projects`, `#/projects/ID`, `#/distributors`, `#/clients`, `#/visitors`; anything else is the projects page. */
export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  if (parts[0] === "projects" && parts[1]) return { page: "project", id: parts[1] };
  if (parts[0] === "distributors") return { page: "distributors" };
  if (parts[0] === "clients") return { page: "clients" };
  if (parts[0] === "visitors") return { page: "visitors" };
  return { page: "projects" };
}

/** The current route, following `hashchange`. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", update);
    return () => removeEventListener("hashchange", update);
  }, []);
  return route;
}
