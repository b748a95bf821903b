import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { StaticRoute } from "../server/index.js";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>dis.io</title><body style="font-family:system-ui;padding:2rem">
<h1>dis.io manager</h1><p>The control panel is not built. Run <code>npm run build</code> and restart the manager.</p></body>`;

/** The built panel's folder: `dist/panel` beside this module's compiled folder, or undefined. */
function panelFolder(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  return [join(here, "..", "panel"), join(here, "..", "dist", "panel")].find((dir) => existsSync(join(dir, "app.js")));
}

/**
 * The control panel's routes on the manager's port: `GET /` answers the single-page app and
 * `/panel/…` its script and style sheet (built by `npm run build:panel` into `dist/panel/`), read
 * once at start. Nothing is fetched from elsewhere: the page talks to AdminService on this origin.
 */
export function panelRoutes(folder = panelFolder()): StaticRoute[] {
  const files = new Map<string, Uint8Array>();
  if (folder) for (const name of ["index.html", "app.js", "app.css", "app.js.map", "app.css.map"]) {
    const path = join(folder, name);
    if (existsSync(path)) files.set(name, readFileSync(path));
  }
  const index = files.get("index.html");
  return [
    { path: "/", serve: () => ({ body: index ?? NOT_BUILT, contentType: TYPES[".html"]! }) },
    {
      path: "/panel/",
      serve: (path) => {
        const name = path.slice("/panel/".length);
        const body = files.get(name);
        if (body === undefined) return undefined;
        return { body, contentType: TYPES[name.slice(name.lastIndexOf("."))] ?? "application/octet-stream", cacheSeconds: 300 };
      },
    },
  ];
}
