import { Code, ConnectError, createConnectRouter, type ConnectRouter, type ConnectRouterOptions, type ContextValues } from "@connectrpc/connect";
import { universalRequestFromNodeRequest, universalResponseToNodeResponse } from "@connectrpc/connect-node";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import type { Logger } from "pino";
import { requestPath, type HttpListener } from "./http-listener.js";
import { isJsonContentType } from "./json-codec.js";
import type { RequestGuard } from "./request-guard.js";
import { undecodableAsInvalidArgument } from "./undecodable-request.js";

/** Options of {@link createRpcListener}. */
export interface RpcListenerOptions extends ConnectRouterOptions {
  /** Registers the services. */
  routes: (router: ConnectRouter) => void;
  /** Handlers that answer binary calls instead of those of `routes` on the same paths (see ServerOptions.binaryRoutes). */
  binaryRoutes?: (router: ConnectRouter) => void;
  /** Decides what of each request body connect reads. */
  guard: RequestGuard;
  /** The context values of a new call. */
  contextValues: (req: Parameters<HttpListener>[0]) => ContextValues;
  /** Answers every request that is not an RPC. */
  fallback: HttpListener;
  log: Logger;
}

/**
 * Serves the RPCs of a connect router on node's HTTP/1.1 and HTTP/2 servers, like connect-node's
 * `connectNodeAdapter`, with the {@link RequestGuard} between the headers and the body (so a caller
 * is authenticated and its body size judged before connect buffers a byte) and connect's answer to
 * an undecodable unary request turned into InvalidArgument.
 */
export function createRpcListener(options: RpcListenerOptions): HttpListener {
  const { guard, log } = options;
  const router = createConnectRouter(options);
  options.routes(router);
  const handlers = new Map<string, UniversalHandler>();
  for (const handler of router.handlers) handlers.set(handler.requestPath, handler);
  const binaryHandlers = new Map<string, UniversalHandler>();
  if (options.binaryRoutes !== undefined) {
    const binaryRouter = createConnectRouter(options);
    options.binaryRoutes(binaryRouter);
    for (const handler of binaryRouter.handlers) binaryHandlers.set(handler.requestPath, handler);
  }

  const serve = async (handler: UniversalHandler, ...[req, res]: Parameters<HttpListener>): Promise<void> => {
    const contextValues = options.contextValues(req);
    const call = { ...universalRequestFromNodeRequest(req, res, undefined, contextValues), contextValues };
    const guarded = await guard.admit(req, res, call, handler.service.typeName, handler.method.name);
    const response = await undecodableAsInvalidArgument(await handler(guarded));
    await universalResponseToNodeResponse(response, res);
  };

  return (req, res) => {
    const path = requestPath(req.url);
    const binary = binaryHandlers.size > 0 && !isJsonContentType(req.headers["content-type"] ?? "");
    const handler = (binary ? binaryHandlers.get(path) : undefined) ?? handlers.get(path);
    if (handler === undefined) {
      options.fallback(req, res);
      return;
    }
    serve(handler, req, res).catch((reason: unknown) => {
      if (ConnectError.from(reason).code !== Code.Aborted) {
        log.error({ err: reason, service: handler.service.typeName, method: handler.method.name }, "rpc handler failed");
      }
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500);
        res.end();
      } else {
        res.destroy();
      }
    });
  };
}
