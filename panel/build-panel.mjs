import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

/**
 * Builds the panel into `dist/panel/`: `app.js` (Preact, uPlot, connect-web and the generated
 * AdminService, one minified ES module), `app.css` and `index.html`. `npm run build:panel`.
 */
const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const out = join(root, "dist", "panel");
mkdirSync(out, { recursive: true });
await build({
  entryPoints: { app: join(root, "panel", "main.tsx") },
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  sourcemap: true,
  jsx: "automatic",
  jsxImportSource: "preact",
  outdir: out,
  logLevel: "warning",
  legalComments: "none",
});
copyFileSync(join(root, "panel", "index.html"), join(out, "index.html"));
