/**
 * Module resolution hooks of a unit runner (registered by `lockDown`, see sandbox.ts): a program may
 * import `data:` modules and the built-ins in {@link ALLOWED_BUILTINS}, nothing else. Every other
 * specifier — `node:net`, `node:http`, `node:os`, `node:module` (createRequire), `node:worker_threads`,
 * a file of the worker's own folder — fails to resolve with `ERR_ACCESS_DENIED`, whether imported
 * statically or with `import()`. This file must import nothing: it runs on the loader thread.
 */

/**
 * Built-ins with no way out of the process: no network, processes, threads, inspector, module loader
 * or host details. File access through `fs` stays bounded by Node's permission model.
 */
export const ALLOWED_BUILTINS: ReadonlySet<string> = new Set([
  "assert",
  "assert/strict",
  "async_hooks",
  "buffer",
  "console",
  "crypto",
  "events",
  "fs",
  "fs/promises",
  "path",
  "path/posix",
  "path/win32",
  "perf_hooks",
  "querystring",
  "stream",
  "stream/consumers",
  "stream/promises",
  "stream/web",
  "string_decoder",
  "timers",
  "timers/promises",
  "url",
  "util",
  "util/types",
  "zlib",
]);

/** Whether a program may import `specifier` (before resolution: a bare name, `node:` name or URL). */
export function importAllowed(specifier: string): boolean {
  if (specifier.startsWith("data:")) return true;
  return ALLOWED_BUILTINS.has(specifier.startsWith("node:") ? specifier.slice("node:".length) : specifier);
}

type NextResolve = (specifier: string, context: unknown) => unknown;

/** The `resolve` hook: denies what {@link importAllowed} refuses, passes the rest on. */
export function resolve(specifier: string, context: unknown, nextResolve: NextResolve): unknown {
  if (!importAllowed(specifier)) {
    const error = new Error(`a program may not import ${specifier} (the dis.io sandbox allows data: modules and computing built-ins only)`);
    throw Object.assign(error, { code: "ERR_ACCESS_DENIED", permission: "Import" });
  }
  return nextResolve(specifier, context);
}
