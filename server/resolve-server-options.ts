import { Registry } from "prom-client";
import type { Health, ServerOptions, ServicePolicy, StaticRoute } from "./server-options.js";

/** {@link ServerOptions} with every default filled in. */
export interface ResolvedServerOptions {
  host: string;
  port: number;
  routes: ServerOptions["routes"];
  binaryRoutes: ServerOptions["binaryRoutes"];
  policies: ServicePolicy[];
  staticRoutes: StaticRoute[];
  readMaxBytes: number;
  /** Every per-method limit, defaults merged in. */
  methodReadMaxBytes: ReadonlyMap<string, number>;
  inFlightMaxBytes: number;
  writeMaxBytes: number;
  http2IdleTimeoutMs: number;
  requestTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  registry: Registry;
  healthy: () => Health;
  log: ServerOptions["log"];
}

/** Default of {@link ServerOptions.readMaxBytes}: 16 MiB. */
export const DEFAULT_READ_MAX_BYTES = 16 * 1024 * 1024;
/** Default of {@link ServerOptions.writeMaxBytes}: 64 MiB. */
export const DEFAULT_WRITE_MAX_BYTES = 64 * 1024 * 1024;
/** Default of {@link ServerOptions.inFlightMaxBytes}: 256 MiB. */
export const DEFAULT_IN_FLIGHT_MAX_BYTES = 256 * 1024 * 1024;
/**
 * Defaults of {@link ServerOptions.methodReadMaxBytes}: the calls anyone may make without a token,
 * and the small ones, get room for their few fields (JSON and field overhead included), not
 * `readMaxBytes`.
 */
export const DEFAULT_METHOD_READ_MAX_BYTES: Readonly<Record<string, number>> = {
  "disio.v1.DistributorService/Join": 8 * 1024,
  "disio.v1.DistributorService/Work": 4 * 1024,
  "disio.v1.DistributorService/GetInfo": 4 * 1024,
  "disio.v1.DistributorService/GetProgram": 1024,
  "disio.v1.ManagerService/GetInfo": 4 * 1024,
  "disio.v1.AdminService/GetInfo": 4 * 1024,
  "grpc.reflection.v1.ServerReflection/ServerReflectionInfo": 64 * 1024,
  "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": 64 * 1024,
};
const MAX_BYTES_LIMIT = 0xffffffff;
/** Default of {@link ServerOptions.http2IdleTimeoutMs}. */
export const DEFAULT_HTTP2_IDLE_TIMEOUT_MS = 60_000;
/** Default of {@link ServerOptions.requestTimeoutMs} (node's own HTTP/1.1 default). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 300_000;
/** Default of {@link ServerOptions.maxConnections}. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;
/** Default of {@link ServerOptions.maxConnectionsPerAddress}. */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 256;
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** Fills the defaults of {@link ServerOptions}; throws `TypeError` on nonsense. */
export function resolveServerOptions(options: ServerOptions): ResolvedServerOptions {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`port must be an integer in 0..65535, got ${port}`);
  }
  const readMaxBytes = options.readMaxBytes ?? DEFAULT_READ_MAX_BYTES;
  const writeMaxBytes = options.writeMaxBytes ?? DEFAULT_WRITE_MAX_BYTES;
  const inFlightMaxBytes = options.inFlightMaxBytes ?? DEFAULT_IN_FLIGHT_MAX_BYTES;
  const methodReadMaxBytes = new Map(Object.entries({ ...DEFAULT_METHOD_READ_MAX_BYTES, ...options.methodReadMaxBytes }));
  const limits: [string, number][] = [
    ["readMaxBytes", readMaxBytes],
    ["writeMaxBytes", writeMaxBytes],
    ["inFlightMaxBytes", inFlightMaxBytes],
    ...[...methodReadMaxBytes].map(([method, value]): [string, number] => [`methodReadMaxBytes["${method}"]`, value]),
  ];
  for (const [name, value] of limits) {
    if (!Number.isInteger(value) || value < 1 || value > MAX_BYTES_LIMIT) {
      throw new TypeError(`${name} must be an integer in 1..${MAX_BYTES_LIMIT}, got ${value}`);
    }
  }
  for (const method of methodReadMaxBytes.keys()) {
    if (!/^[\w.]+\/\w+$/.test(method)) throw new TypeError(`methodReadMaxBytes keys are "<service>/<method>", got "${method}"`);
  }
  const largest = Math.max(readMaxBytes, ...methodReadMaxBytes.values());
  if (inFlightMaxBytes < largest) {
    throw new TypeError(`inFlightMaxBytes (${inFlightMaxBytes}) must be at least the largest request limit (${largest})`);
  }
  const counts = {
    http2IdleTimeoutMs: [options.http2IdleTimeoutMs ?? DEFAULT_HTTP2_IDLE_TIMEOUT_MS, MAX_TIMEOUT_MS],
    requestTimeoutMs: [options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, MAX_TIMEOUT_MS],
    maxConnections: [options.maxConnections ?? DEFAULT_MAX_CONNECTIONS, MAX_BYTES_LIMIT],
    maxConnectionsPerAddress: [options.maxConnectionsPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS, MAX_BYTES_LIMIT],
  } as const;
  for (const [name, [value, max]] of Object.entries(counts)) {
    if (!Number.isInteger(value) || value < 1 || value > max) throw new TypeError(`${name} must be an integer in 1..${max}, got ${value}`);
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
    binaryRoutes: options.binaryRoutes,
    policies,
    staticRoutes: options.staticRoutes ?? [],
    readMaxBytes,
    methodReadMaxBytes,
    inFlightMaxBytes,
    writeMaxBytes,
    http2IdleTimeoutMs: counts.http2IdleTimeoutMs[0],
    requestTimeoutMs: counts.requestTimeoutMs[0],
    maxConnections: counts.maxConnections[0],
    maxConnectionsPerAddress: counts.maxConnectionsPerAddress[0],
    registry: options.registry ?? new Registry(),
    healthy: options.healthy ?? (() => true),
    log: options.log,
  };
}
