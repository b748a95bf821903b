import type * as http from "node:http";
import type * as http2 from "node:http2";
import { createContextKey, createContextValues, type ContextValues, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { Counter, type Registry } from "prom-client";
import { requestPath } from "./http-listener.js";
import { registeredMetric } from "./registered-metric.js";
import { remoteAddressKey } from "./remote-address-key.js";

/** Name of the counter of RPCs refused before they reached a service, by `service` and `method`. */
export const RPC_REFUSED_METRIC = "disio_rpc_refused_total";

/** Whether a call got past connect's own checks (size, encoding, parsing) into the interceptors. */
interface CallMark {
  reached: boolean;
}

const callMarkKey = createContextKey<CallMark | undefined>(undefined, { description: "disio call mark" });

/** The hooks of {@link watchRefusedCalls}, to plug into connect-node and the port's listener. */
export interface RefusedCallWatch {
  /** connect-node's `contextValues`: marks each RPC request as not reached yet, and notes its remote address. */
  contextValues(req: http.IncomingMessage | http2.Http2ServerRequest): ContextValues;
  /** Must run first among the interceptors: marks the call as reached. */
  interceptor: Interceptor;
  /** Call from the port's listener for every request, before connect handles it. */
  watch(req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void;
}

/**
 * Logs and counts the RPCs connect refuses before any interceptor runs: a request over the size
 * limit, a body that does not parse, an unsupported encoding or content type, a bad timeout header.
 * The caller gets connect's answer as before; the server adds one `warn` line ("rpc refused") with
 * what the response carried (HTTP status; for gRPC over HTTP/2 the `grpc-status`) and increments
 * `disio_rpc_refused_total`. Calls that reach the interceptors are logged by the error interceptor.
 */
export function watchRefusedCalls(log: Logger, registry: Registry): RefusedCallWatch {
  const refused = registeredMetric(
    registry,
    RPC_REFUSED_METRIC,
    () =>
      new Counter<"service" | "method">({
        name: RPC_REFUSED_METRIC,
        help: "RPCs refused before reaching a service (oversized, malformed, bad encoding), by service and method.",
        labelNames: ["service", "method"],
        registers: [registry],
      }),
  );
  const marks = new WeakMap<object, CallMark>();
  return {
    contextValues(req) {
      const mark: CallMark = { reached: false };
      marks.set(req, mark);
      return createContextValues().set(callMarkKey, mark).set(remoteAddressKey, req.socket?.remoteAddress ?? "");
    },
    interceptor: (next) => (req) => {
      const mark = req.contextValues.get(callMarkKey);
      if (mark !== undefined) mark.reached = true;
      return next(req);
    },
    watch(req, res) {
      res.once("finish", () => {
        const mark = marks.get(req);
        if (mark === undefined || mark.reached) return;
        const [service = "", method = ""] = requestPath(req.url).split("/").slice(1);
        refused.labels(service, method).inc();
        log.warn(
          { service, method, httpStatus: res.statusCode, grpcStatus: grpcStatusOf(res), contentType: req.headers["content-type"] },
          "rpc refused",
        );
      });
    },
  };
}

/** The `grpc-status` an HTTP/2 response sent (in its trailers, or its headers when trailers-only). */
function grpcStatusOf(res: http.ServerResponse | http2.Http2ServerResponse): number | undefined {
  if (!("stream" in res)) return undefined;
  const status = res.stream.sentTrailers?.["grpc-status"] ?? res.stream.sentHeaders?.["grpc-status"];
  return status === undefined ? undefined : Number(status);
}
