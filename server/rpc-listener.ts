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
  /** Aborted when the server shuts down: every open call is aborted with its reason. */
  shutdownSignal?: AbortSignal;
}

/**
 * Serves the RPCs of a connect router on node's HTTP/1.1 and HTTP/2 servers, like connect-node's
 * `connectNodeAdapter`, with the {@link RequestGuard} between the headers and the body (so a caller
 * is authenticated and its body size judged before connect buffers a byte) and connect's answer to
 * an undecodable unary request turned into InvalidArgument.
 *
 * The shutdown signal is not given to connect: connect adds a listener per call to it, and node's
 * EventTarget walks all of a signal's listeners on each add and remove, so with 10,000 open Work
 * streams every call cost 20,000 steps. The listener keeps its open calls in a set instead.
 */
export function createRpcListener(options: RpcListenerOptions): HttpListener {
  const { guard, log, shutdownSignal, ...routerOptions } = options;
  const router = createConnectRouter(routerOptions);
  options.routes(router);
  const handlers = new Map<string, UniversalHandler>();
  for (const handler of router.handlers) handlers.set(handler.requestPath, handler);
  const binaryHandlers = new Map<string, UniversalHandler>();
  if (options.binaryRoutes !== undefined) {
    const binaryRouter = createConnectRouter(routerOptions);
    options.binaryRoutes(binaryRouter);
    for (const handler of binaryRouter.handlers) binaryHandlers.set(handler.requestPath, handler);
  }
  const open = new Set<AbortController>();
  shutdownSignal?.addEventListener("abort", () => {
    for (const call of open) call.abort(shutdownSignal.reason);
  }, { once: true });

  const serve = async (handler: UniversalHandler, ...[req, res]: Parameters<HttpListener>): Promise<void> => {
    const contextValues = options.contextValues(req);
    const request = universalRequestFromNodeRequest(req, res, undefined, contextValues);
    const call = { ...request, signal: openCallSignal(request.signal, open, shutdownSignal), contextValues };
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

/**
 * The signal of one call: aborted with the request's (the client went away) and, while the call is
 * in `open`, by the listener's shutdown. The call leaves `open` when its request's signal aborts,
 * which connect-node does once the response closed.
 */
function openCallSignal(requestSignal: AbortSignal, open: Set<AbortController>, shutdownSignal: AbortSignal | undefined): AbortSignal {
  const call = new AbortController();
  if (shutdownSignal?.aborted === true) {
    call.abort(shutdownSignal.reason);
    return call.signal;
  }
  open.add(call);
  const onEnd = (): void => {
    open.delete(call);
    call.abort(requestSignal.reason);
  };
  if (requestSignal.aborted) onEnd();
  else requestSignal.addEventListener("abort", onEnd, { once: true });
  return call.signal;
}
