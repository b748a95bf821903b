import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { createAuthInterceptor } from "./auth-interceptor.js";
import { createCorsPolicy } from "./cors-policy.js";
import { createErrorInterceptor } from "./error-interceptor.js";
import type { HttpListener } from "./http-listener.js";
import { compressionFastGzip } from "./fast-gzip.js";
import { createHttpRoutes } from "./http-routes.js";
import { createMetricsInterceptor } from "./metrics-interceptor.js";
import { listenOnePort } from "./one-port-listener.js";
import { registerReflection } from "./reflection-service.js";
import { watchRefusedCalls } from "./refused-calls.js";
import { createRequestGuard } from "./request-guard.js";
import { resolveServerOptions } from "./resolve-server-options.js";
import { createRpcListener } from "./rpc-listener.js";
import type { RunningServer, ServerOptions } from "./server-options.js";

/** Responses smaller than this are sent uncompressed even when the caller accepts gzip. */
const COMPRESS_MIN_BYTES = 1024;
/** Default of `close({ graceMs })`. */
const DEFAULT_GRACE_MS = 5000;

/**
 * Starts the one-port server every dis.io part runs on: Connect, gRPC and gRPC-Web over HTTP/1.1
 * and h2c, gRPC server reflection, `/healthz`, `/metrics`, static routes and CORS, with the auth,
 * error-mapping and metrics interceptors. Resolves once the port is bound.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const o = resolveServerOptions(options);
  const log = o.log.child({ component: "server" });
  const shutdown = new AbortController();

  // Order matters: the refusal watch sees every call that got past connect's own checks, metrics
  // sees the mapped code, the error mapper sees what auth throws.
  const refusals = watchRefusedCalls(log, o.registry);
  const interceptors: Interceptor[] = [refusals.interceptor, createMetricsInterceptor(o.registry), createErrorInterceptor(log)];
  if (o.policies.some((p) => p.authenticate !== undefined)) interceptors.push(createAuthInterceptor());

  const guard = createRequestGuard({
    policies: o.policies,
    methodReadMaxBytes: (service, method) => o.methodReadMaxBytes.get(`${service}/${method}`) ?? o.readMaxBytes,
    inFlightMaxBytes: o.inFlightMaxBytes,
  });
  const rpc = createRpcListener({
    guard,
    log,
    routes: (router) => {
      o.routes(router);
      registerReflection(router);
    },
    binaryRoutes: o.binaryRoutes,
    interceptors,
    contextValues: refusals.contextValues,
    // The guard holds each method to its own limit; connect only needs to allow the largest.
    readMaxBytes: Math.max(o.readMaxBytes, ...o.methodReadMaxBytes.values()),
    writeMaxBytes: o.writeMaxBytes,
    acceptCompression: [compressionFastGzip],
    compressMinBytes: COMPRESS_MIN_BYTES,
    shutdownSignal: shutdown.signal,
    fallback: createHttpRoutes({
      registry: o.registry,
      healthy: o.healthy,
      staticRoutes: o.staticRoutes,
      log,
    }),
  });

  const corsServices = new Set(o.policies.filter((p) => p.cors === true).map((p) => p.service));
  const cors = corsServices.size > 0 ? createCorsPolicy(corsServices) : undefined;
  const listener: HttpListener = (req, res) => {
    if (cors?.(req, res) === true) return;
    refusals.watch(req, res);
    rpc(req, res);
  };

  const bound = await listenOnePort({ host: o.host, port: o.port, listener, log, limits: o });
  const host = o.host.includes(":") ? `[${o.host}]` : o.host;
  const url = `http://${host}:${bound.port}`;
  log.info({ url }, "server listening");

  let closed: Promise<void> | undefined;
  return {
    url,
    port: bound.port,
    registry: o.registry,
    close({ graceMs = DEFAULT_GRACE_MS } = {}) {
      closed ??= bound
        .close(graceMs, () => shutdown.abort(new ConnectError("server is shutting down", Code.Unavailable)))
        .then(() => log.info({ url }, "server closed"));
      return closed;
    },
  };
}
