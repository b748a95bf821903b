import { Registry } from "prom-client";
import type { Health, ServerOptions, ServicePolicy, StaticRoute } from "./server-options.js";

/** {@link ServerOptions} with every default filled in. */
export interface ResolvedServerOptions {
  host: string;
  port: number;
  routes: ServerOptions["routes"];
  policies: ServicePolicy[];
  staticRoutes: StaticRoute[];
  readMaxBytes: number;
  writeMaxBytes: number;
  registry: Registry;
  healthy: () => Health;
  log: ServerOptions["log"];
}

/** Default of {@link ServerOptions.readMaxBytes}: 16 MiB. */
export const DEFAULT_READ_MAX_BYTES = 16 * 1024 * 1024;
/** Default of {@link ServerOptions.writeMaxBytes}: 64 MiB. */
export const DEFAULT_WRITE_MAX_BYTES = 64 * 1024 * 1024;
const MAX_BYTES_LIMIT = 0xffffffff;

/** Fills the defaults of {@link ServerOptions}; throws `TypeError` on nonsense. */
export function resolveServerOptions(options: ServerOptions): ResolvedServerOptions {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`port must be an integer in 0..65535, got ${port}`);
  }
  const readMaxBytes = options.readMaxBytes ?? DEFAULT_READ_MAX_BYTES;
  const writeMaxBytes = options.writeMaxBytes ?? DEFAULT_WRITE_MAX_BYTES;
  for (const [name, value] of [
    ["readMaxBytes", readMaxBytes],
    ["writeMaxBytes", writeMaxBytes],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > MAX_BYTES_LIMIT) {
      throw new TypeError(`${name} must be an integer in 1..${MAX_BYTES_LIMIT}, got ${value}`);
    }
  }
  if (typeof options.routes !== "function") throw new TypeError("routes must be a function");
  if (options.log === undefined) throw new TypeError("log is required");
  const policies = options.policies ?? [];
  const seen = new Set<string>();
  for (const policy of policies) {
    if (seen.has(policy.service)) throw new TypeError(`two policies for service ${policy.service}`);
    seen.add(policy.service);
  }
  for (const route of options.staticRoutes ?? []) {
    if (!route.path.startsWith("/")) throw new TypeError(`static route path must start with "/": ${route.path}`);
  }
  return {
    host: options.host ?? "127.0.0.1",
    port,
    routes: options.routes,
    policies,
    staticRoutes: options.staticRoutes ?? [],
    readMaxBytes,
    writeMaxBytes,
    registry: options.registry ?? new Registry(),
    healthy: options.healthy ?? (() => true),
    log: options.log,
  };
}
