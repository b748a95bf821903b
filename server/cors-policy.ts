import { cors } from "@connectrpc/connect";
import { requestPath, type HttpListener } from "./http-listener.js";

/** How long browsers may cache a preflight answer, seconds. */
const PREFLIGHT_MAX_AGE_SECONDS = 7200;

/**
 * CORS for the RPCs of `services` (browser clients embedded on any origin): adds
 * `Access-Control-Allow-Origin: *` and the exposed headers Connect and gRPC-Web need to cross-origin
 * responses, and answers preflight `OPTIONS` requests itself. Returns true when it answered the
 * request (a preflight); the caller serves everything else. Requests without an `Origin` header
 * (every non-browser client) cost one header lookup.
 */
export function createCorsPolicy(services: ReadonlySet<string>): (...args: Parameters<HttpListener>) => boolean {
  const allowMethods = cors.allowedMethods.join(", ");
  const allowHeaders = [...cors.allowedHeaders, "Authorization"].join(", ");
  const exposeHeaders = cors.exposedHeaders.join(", ");
  return (req, res) => {
    if (req.headers.origin === undefined) return false;
    const path = requestPath(req.url);
    const end = path.indexOf("/", 1);
    if (end === -1 || !services.has(path.slice(1, end))) return false;
    res.setHeader("access-control-allow-origin", "*");
    if (req.method === "OPTIONS") {
      res.writeHead(204, {
        "access-control-allow-methods": allowMethods,
        "access-control-allow-headers": allowHeaders,
        "access-control-max-age": String(PREFLIGHT_MAX_AGE_SECONDS),
      });
      res.end();
      return true;
    }
    res.setHeader("access-control-expose-headers", exposeHeaders);
    return false;
  };
}
