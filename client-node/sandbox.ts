/**
 * The in-process half of a unit runner's sandbox, on top of Node's permission model (which bounds
 * files, child processes and addons but, on Node 20, has no network switch). {@link lockDown} runs
 * once in the runner before any program loads.
 */
import { register, syncBuiltinESMExports } from "node:module";
import net from "node:net";
import workerThreads from "node:worker_threads";

/** The error every denied capability throws: `ERR_ACCESS_DENIED`, like the permission model's own. */
export function accessDenied(what: string, permission: string): Error {
  return Object.assign(new Error(`${what} is not available to dis.io programs`), { code: "ERR_ACCESS_DENIED", permission });
}

function deny(target: object, name: string, what: string, permission: string): void {
  Object.defineProperty(target, name, {
    value: function denied() {
      throw accessDenied(what, permission);
    },
    writable: false,
    configurable: false,
    enumerable: false,
  });
}

/**
 * Takes away from programs everything that reaches out of the process:
 * - imports: only `data:` modules and computing built-ins resolve (sandbox-hooks.ts), so `node:net`,
 *   `node:http(s|2)`, `node:dgram`, `node:dns`, `node:tls`, `node:os`, `node:module` (createRequire),
 *   `node:child_process`, `node:worker_threads`, `node:inspector` fail, statically or with `import()`;
 * - globals: `fetch`, `WebSocket`, `EventSource` throw;
 * - process: `getBuiltinModule`, `binding`, `_linkedBinding`, `dlopen`, `kill` and `report` (whose
 *   report holds the host name and network interfaces) throw;
 * - sockets reachable without an import (`process.stdout` is a `net.Socket` on a pipe): connecting or
 *   listening throws, and so do the pipe handle's connect/bind/listen/open;
 * - `Worker` throws (the loader hooks need worker threads allowed, so the permission model cannot deny them).
 * `hooksUrl` is the compiled sandbox-hooks.js.
 */
export function lockDown(hooksUrl: URL): void {
  register(hooksUrl);
  for (const name of ["fetch", "WebSocket", "EventSource"]) deny(globalThis, name, name, "Network");
  for (const name of ["getBuiltinModule", "binding", "_linkedBinding", "dlopen", "kill"]) deny(process, name, `process.${name}`, "Process");
  const report = {};
  for (const name of ["getReport", "writeReport"]) deny(report, name, `process.report.${name}`, "Process");
  Object.defineProperty(process, "report", { value: Object.freeze(report), writable: false, configurable: false });
  deny(net.Socket.prototype, "connect", "net.Socket#connect", "Network");
  deny(net.Server.prototype, "listen", "net.Server#listen", "Network");
  for (const handle of [(process.stdout as { _handle?: object })._handle, (process as { channel?: object }).channel]) {
    const prototype = handle === undefined ? undefined : Object.getPrototypeOf(handle);
    if (prototype === undefined || prototype === null) continue;
    for (const name of ["connect", "bind", "listen", "open"]) if (name in prototype) deny(prototype, name, `pipe handle ${name}`, "Network");
  }
  deny(workerThreads, "Worker", "Worker", "WorkerThreads");
  syncBuiltinESMExports();
}
