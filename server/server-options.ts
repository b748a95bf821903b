import type { ConnectRouter } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { Registry } from "prom-client";

/**
 * Decides who is calling. Returns the caller's principal (any value the services understand, e.g.
 * `{ distributorId }`), which handlers read with `ctx.values.get(principalKey)`. Throws
 * `UnauthenticatedError` (from core/errors) when the token is missing or not accepted.
 */
export type Authenticate = (call: {
  /** Fully-qualified service name, e.g. `disio.v1.AdminService`. */
  service: string;
  /** Method name, e.g. `GetInfo`. */
  method: string;
  /** The bearer token from `Authorization: Bearer …`, if any. */
  token: string | undefined;
}) => unknown | Promise<unknown>;

/** One service's policy on the shared port. */
export interface ServicePolicy {
  /** Fully-qualified service name, e.g. `disio.v1.DistributorService`. */
  service: string;
  /** Authenticator for this service's calls; absent: anonymous. */
  authenticate?: Authenticate;
  /** Methods of this service that skip authentication (e.g. `Join`, `GetInfo`). */
  anonymousMethods?: string[];
  /** Serve CORS headers for this service (browser clients on any origin). Default false. */
  cors?: boolean;
}

/** What a {@link StaticRoute} answers with. */
export interface StaticAsset {
  body: string | Uint8Array;
  contentType: string;
  /** `Cache-Control: public, max-age=…` when set, else `no-cache` (revalidate with the ETag). */
  cacheSeconds?: number;
  /** Strong ETag (quoted); a matching `If-None-Match` gets a 304. */
  etag?: string;
  /** The same body compressed, chosen by the request's `Accept-Encoding` (brotli first). */
  encoded?: { br?: Uint8Array; gzip?: Uint8Array };
  /** More response headers (CORS, Content-Security-Policy…). */
  headers?: Record<string, string>;
}

/** A plain HTTP route served beside the RPCs (panel pages, client.js, a demo page). */
export interface StaticRoute {
  /** Exact path, e.g. `/client.js`, or a prefix ending in `/`, e.g. `/panel/`. */
  path: string;
  /** Answers the request; returns the asset, or undefined for 404. */
  serve: (path: string) => StaticAsset | undefined | Promise<StaticAsset | undefined>;
}

/** What a part tells `/healthz`: healthy or not, and if not, optionally why. */
export type Health = boolean | { unhealthy: string };

/** Options of {@link startServer}. All optional but `routes` and `log`. */
export interface ServerOptions {
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
  /** Port to bind; 0 picks a free one. Default 0. */
  port?: number;
  /** Registers the connect services, e.g. `(router) => router.service(AdminService, impl)`. */
  routes: (router: ConnectRouter) => void;
  /**
   * Registers, for binary callers only, other handlers of some of the methods `routes` registered
   * (same paths): typically with an undecoded input (`EmptySchema`, every field unknown) that the
   * handler decodes by hand. A call on the JSON codec always goes to the `routes` handler.
   */
  binaryRoutes?: (router: ConnectRouter) => void;
  /** Per-service auth and CORS. Services not listed are anonymous and without CORS. */
  policies?: ServicePolicy[];
  /** Plain HTTP routes (static files) besides `/healthz` and `/metrics`. */
  staticRoutes?: StaticRoute[];
  /**
   * Largest request body accepted, bytes, for methods without their own limit in
   * `methodReadMaxBytes`. Default 16 MiB. Larger → ResourceExhausted, refused from the
   * `Content-Length` before the body is read, or as soon as a body without one grows past it.
   */
  readMaxBytes?: number;
  /**
   * Largest request body of particular methods, bytes, keyed `"<service>/<method>"` (e.g.
   * `"disio.v1.DistributorService/Join"`), merged over the defaults: 8 KiB for Join, 4 KiB for
   * Work and every GetInfo, 1 KiB for GetProgram, 64 KiB for the reflection streams.
   */
  methodReadMaxBytes?: Record<string, number>;
  /**
   * Most request-body bytes all calls together may hold at once (a call holds its
   * `Content-Length`, or what it received, until its response ends). Past it calls get
   * ResourceExhausted. Default 256 MiB; at least the largest per-method limit.
   */
  inFlightMaxBytes?: number;
  /**
   * An HTTP/2 connection with no open stream for this long is closed (GOAWAY), ms: connections
   * that sent only the preface, only SETTINGS, or headers that never complete. Streams that stay
   * open (Work, WatchResults) keep their connection. Default 60000. HTTP/1.1 idle connections close
   * after node's keep-alive timeout.
   */
  http2IdleTimeoutMs?: number;
  /**
   * A request whose headers and body have not all arrived after this long is cut, ms: the HTTP/2
   * stream is reset, the HTTP/1.1 connection closed (node's `requestTimeout`). Server streams are
   * not cut once their request is complete. Default 300000.
   */
  requestTimeoutMs?: number;
  /** Most open connections, all callers together; more are closed at once. Default 10000. */
  maxConnections?: number;
  /** Most open connections from one remote address; more are closed at once. Default 256. */
  maxConnectionsPerAddress?: number;
  /** Largest response message sent, bytes. Default 64 MiB. */
  writeMaxBytes?: number;
  /** Prometheus registry to serve at `/metrics` and to record RPC counts/latencies in. Default: a new one. */
  registry?: Registry;
  /**
   * Answers `GET /healthz`: true → 200 `ok`; false → 503 `unhealthy`; `{ unhealthy: reason }` →
   * 503 `unhealthy: <reason>` (e.g. the store is full). Default always true.
   */
  healthy?: () => Health;
  /** Logger; the server logs one line per failed call (warn for client faults, error for internal). */
  log: Logger;
}

/** A listening server. */
export interface RunningServer {
  /** `http://host:port` of the listening socket. */
  readonly url: string;
  /** The bound port. */
  readonly port: number;
  /** The Prometheus registry in use (to add part-specific metrics). */
  readonly registry: Registry;
  /**
   * Graceful stop: stop accepting, let in-flight unary calls finish, end open streams after
   * `graceMs` (default 5000), close every socket.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}
