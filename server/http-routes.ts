import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { requestPath, type HttpListener } from "./http-listener.js";
import { sendAsset } from "./send-asset.js";
import type { Health, StaticRoute } from "./server-options.js";

const GRPC_UNIMPLEMENTED = "12";

/**
 * Answers every request no RPC handler took: `GET /healthz`, `GET /metrics` (Prometheus text),
 * the static routes (exact paths first, then the longest matching prefix), and otherwise
 * "unimplemented" — a trailers-only gRPC status 12 for gRPC and gRPC-Web callers (whose clients
 * expect a status, not an HTTP 404), a plain 404 for everyone else (Connect clients read 404 as
 * Unimplemented).
 */
export function createHttpRoutes(options: {
  registry: Registry;
  healthy: () => Health;
  staticRoutes: readonly StaticRoute[];
  log: Logger;
}): HttpListener {
  const { registry, healthy, log } = options;
  const exact = new Map<string, StaticRoute>();
  const prefixes: StaticRoute[] = [];
  for (const route of options.staticRoutes) {
    if (route.path.endsWith("/")) prefixes.push(route);
    else exact.set(route.path, route);
  }
  prefixes.sort((a, b) => b.path.length - a.path.length);

  const route: (...args: Parameters<HttpListener>) => Promise<void> = async (req, res) => {
    const path = requestPath(req.url);
    const method = req.method;
    if (method === "GET" || method === "HEAD") {
      if (path === "/healthz") {
        const health = healthy();
        const body = health === true ? "ok\n" : health === false ? "unhealthy\n" : `unhealthy: ${health.unhealthy}\n`;
        send(res, method, health === true ? 200 : 503, "text/plain; charset=utf-8", body, "no-store");
        return;
      }
      if (path === "/metrics") {
        send(res, method, 200, registry.contentType, await registry.metrics(), "no-store");
        return;
      }
      const staticRoute = exact.get(path) ?? prefixes.find((p) => path.startsWith(p.path));
      const found = await staticRoute?.serve(path);
      if (found !== undefined) {
        sendAsset(req, res, found);
        return;
      }
    }
    const contentType = req.headers["content-type"];
    if (typeof contentType === "string" && contentType.startsWith("application/grpc")) {
      const headers = {
        "content-type": contentType,
        "grpc-status": GRPC_UNIMPLEMENTED,
        "grpc-message": encodeURIComponent(`unknown method ${path}`),
      };
      if ("stream" in res) {
        // HTTP/2 "trailers-only": gRPC clients read the status only from a HEADERS frame that ends the stream.
        res.stream.respond({ ":status": 200, ...headers }, { endStream: true });
      } else {
        res.writeHead(200, headers);
        res.end();
      }
      return;
    }
    send(res, method, 404, "text/plain; charset=utf-8", "not found\n", "no-store");
  };

  return (req, res) => {
    route(req, res).catch((error: unknown) => {
      log.error({ err: error, path: requestPath(req.url) }, "http route failed");
      if (!res.headersSent) send(res, req.method, 500, "text/plain; charset=utf-8", "internal error\n", "no-store");
      else res.destroy();
    });
  };
}

function send(
  res: Parameters<HttpListener>[1],
  method: string | undefined,
  status: number,
  contentType: string,
  body: string | Uint8Array,
  cacheControl: string,
): void {
  const bytes = typeof body === "string" ? Buffer.from(body) : body;
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": bytes.byteLength,
    "cache-control": cacheControl,
  });
  if (method === "HEAD") res.end();
  else res.end(bytes);
}
