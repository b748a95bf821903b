import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import type { Logger } from "pino";
import type { StaticAsset, StaticRoute } from "../server/index.js";

/** How long browsers may use client.js and runner.html before revalidating (ETag), seconds. */
const ASSET_CACHE_SECONDS = 300;

/** Any origin may load the embed's files (it is meant to be embedded everywhere). */
const OPEN_TO_ANY_ORIGIN = { "access-control-allow-origin": "*", "cross-origin-resource-policy": "cross-origin", "x-content-type-options": "nosniff" };

/** The package's `dist/browser/`, found by walking up from this file to the folder with package.json. */
export function defaultBrowserAssetsDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return join(dir, "dist", "browser");
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function asset(body: string, contentType: string, extra: Partial<StaticAsset> = {}): StaticAsset {
  const bytes = Buffer.from(body, "utf8");
  const etag = `"${createHash("sha256").update(bytes).digest("base64url").slice(0, 27)}"`;
  return {
    body: bytes,
    contentType,
    etag,
    encoded: {
      br: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
      gzip: gzipSync(bytes, { level: 9 }),
    },
    ...extra,
  };
}

/**
 * The distributor's browser routes, from the built embed in `dir`: `GET /client.js` (and its
 * `client.d.ts`) open to any origin, `GET /runner.html` (the sandboxed runner iframe, with its strict
 * Content-Security-Policy from the build's manifest) and the demo page at `GET /`. Each is read and
 * compressed (brotli and gzip) once, at start, and carries an ETag. When the bundle was not built,
 * no route is served and a warning says how to build it.
 */
export function browserRoutes(dir: string | undefined, log: Logger): StaticRoute[] {
  const manifestPath = dir === undefined ? undefined : join(dir, "manifest.json");
  if (dir === undefined || manifestPath === undefined || !existsSync(manifestPath)) {
    log.warn({ dir }, "browser client not built, /client.js is not served: run npm run build");
    return [];
  }
  const read = (name: string) => readFileSync(join(dir, name), "utf8");
  const manifest = JSON.parse(read("manifest.json")) as { runnerCsp: string };
  const assets = new Map<string, StaticAsset>([
    ["/client.js", asset(read("client.js"), "text/javascript; charset=utf-8", { cacheSeconds: ASSET_CACHE_SECONDS, headers: OPEN_TO_ANY_ORIGIN })],
    ["/client.d.ts", asset(read("client.d.ts"), "text/plain; charset=utf-8", { cacheSeconds: ASSET_CACHE_SECONDS, headers: OPEN_TO_ANY_ORIGIN })],
    [
      "/runner.html",
      asset(read("runner.html"), "text/html; charset=utf-8", {
        cacheSeconds: ASSET_CACHE_SECONDS,
        headers: { "content-security-policy": manifest.runnerCsp, "referrer-policy": "no-referrer", "x-content-type-options": "nosniff" },
      }),
    ],
    ["/", asset(read("demo.html"), "text/html; charset=utf-8")],
  ]);
  // "/" is a prefix route: it answers only the root itself (other paths stay 404).
  return [...assets].map(([path, found]) => ({ path, serve: (asked: string) => (asked === path ? found : undefined) }));
}
