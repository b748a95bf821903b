import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import ts from "typescript";

/** What {@link buildBrowserBundle} wrote. */
export interface BrowserBundle {
  /** The folder holding client.js, client.d.ts, runner.html, demo.html and manifest.json. */
  outDir: string;
  /** Bytes of each file, raw and gzipped (level 9). */
  sizes: Record<string, { bytes: number; gzipBytes: number }>;
}

/** What the distributor needs to serve the bundle beside the files themselves. */
export interface BundleManifest {
  /** The Content-Security-Policy of runner.html (its inline script pinned by hash). */
  runnerCsp: string;
}

/** Browsers the bundle targets: those with module workers and Ed25519 or WebCrypto SHA-512. */
const TARGET = ["chrome100", "firefox115", "safari16"];

/**
 * The runner iframe's policy: only its own inline script and `blob:` scripts (the unit workers and
 * the programs they import) run; no request of any kind leaves it (`connect-src 'none'` and
 * `default-src 'none'`); and it is sandboxed even if opened outside the embed's iframe. Workers made
 * from `blob:` URLs inherit it.
 */
export function runnerContentSecurityPolicy(scriptHash: string): string {
  return [
    "default-src 'none'",
    `script-src 'sha256-${scriptHash}' blob:`,
    "worker-src blob:",
    "connect-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "sandbox allow-scripts",
  ].join("; ");
}

async function bundle(root: string, entry: string, define: Record<string, string> = {}): Promise<string> {
  const result = await build({
    entryPoints: [join(root, "client-browser", entry)],
    bundle: true,
    minify: true,
    format: "iife",
    target: TARGET,
    platform: "browser",
    write: false,
    legalComments: "none",
    define,
    logLevel: "silent",
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error(`esbuild wrote nothing for ${entry}`);
  return output.text;
}

/**
 * Builds the browser embed with esbuild from the TypeScript sources under `root`: `client.js` (the
 * page's script: connect-web, protobuf-es and the shared client core), `runner.html` (the sandboxed
 * iframe, its script inline with the unit worker's source inside), `client.d.ts` (the `window.disio`
 * types), `demo.html` and `manifest.json` (runner.html's CSP). Run by `npm run build`.
 */
export async function buildBrowserBundle(options: { root: string; outDir: string }): Promise<BrowserBundle> {
  const { root, outDir } = options;
  const worker = await bundle(root, "unit-worker.ts");
  const runner = (await bundle(root, "runner.ts", { __DISIO_UNIT_WORKER__: JSON.stringify(worker) })).replaceAll("</script", "<\\/script");
  const client = await bundle(root, "embed.ts");
  const runnerHtml = `<!doctype html><html><head><meta charset="utf-8"><title>dis.io runner</title></head><body><script>${runner}</script></body></html>\n`;
  const scriptHash = createHash("sha256").update(runner, "utf8").digest("base64");
  const apiSource = readFileSync(join(root, "client-browser", "disio-api.ts"), "utf8");
  const declarations = ts.transpileDeclaration(apiSource, { compilerOptions: { target: ts.ScriptTarget.ES2022 } }).outputText;
  const manifest: BundleManifest = { runnerCsp: runnerContentSecurityPolicy(scriptHash) };
  const files: Record<string, string> = {
    "client.js": client,
    "runner.html": runnerHtml,
    "client.d.ts": declarations,
    "demo.html": readFileSync(join(root, "client-browser", "demo.html"), "utf8"),
    "manifest.json": `${JSON.stringify(manifest, null, 2)}\n`,
  };
  mkdirSync(outDir, { recursive: true });
  const sizes: BrowserBundle["sizes"] = {};
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(outDir, name), text);
    const bytes = Buffer.byteLength(text);
    sizes[name] = { bytes, gzipBytes: gzipSync(text, { level: 9 }).byteLength };
  }
  return { outDir, sizes };
}
