import type { ManagerStore, ProjectRecord } from "./store.js";

/** Projects read per page. */
const PAGE = 1_000;

/** Every project in the store, read page by page (for sweeps, heartbeats and gauges over all of them). */
export async function allProjects(store: ManagerStore): Promise<ProjectRecord[]> {
  const all: ProjectRecord[] = [];
  let pageToken = "";
  do {
    const page = await store.listProjects({ limit: PAGE, pageToken });
    all.push(...page.projects);
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  return all;
}
