/**
 * `npm run build`'s second step (after tsc): builds the browser embed into `dist/browser/`, where
 * every distributor serves it from, and prints the sizes.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildBrowserBundle } from "./build-bundle.js";

// This file runs as dist/client-browser/build-bundle-main.js: the package root is two folders up.
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const built = await buildBrowserBundle({ root, outDir: join(root, "dist", "browser") });
for (const [name, size] of Object.entries(built.sizes)) {
  process.stdout.write(`dist/browser/${name}: ${size.bytes} bytes, ${size.gzipBytes} gzipped\n`);
}
