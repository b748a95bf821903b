import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { DescMethod } from "@bufbuild/protobuf";
import { Counter, Histogram, type Registry } from "prom-client";
import { registeredMetric } from "./registered-metric.js";

/** Name of the counter of finished RPCs, labelled `service`, `method`, `code` (`OK` on success). */
export const RPC_CALLS_METRIC = "disio_rpc_calls_total";
/** Name of the histogram of RPC durations in seconds (a stream counts until it ends), by `service`, `method`. */
export const RPC_DURATION_METRIC = "disio_rpc_duration_seconds";

const codeNames: string[] = [];
codeNames[0] = "OK";
for (let code = Code.Canceled; code <= Code.Unauthenticated; code++) codeNames[code] = Code[code] ?? String(code);

interface MethodMetrics {
  duration: Histogram.Internal<"service" | "method">;
  calls: (Counter.Internal | undefined)[];
}

/**
 * Counts every RPC by service, method and code and observes its duration. Label children are
 * looked up once per method and code, so a call costs two clock reads, one increment and one
 * observation. Reuses the metrics when the registry already holds them (two servers, one registry).
 */
export function createMetricsInterceptor(registry: Registry): Interceptor {
  const calls = registeredMetric(
    registry,
    RPC_CALLS_METRIC,
    () =>
      new Counter<"service" | "method" | "code">({
        name: RPC_CALLS_METRIC,
        help: "RPCs finished, by service, method and status code.",
        labelNames: ["service", "method", "code"],
        registers: [registry],
      }),
  );
  const duration = registeredMetric(
    registry,
    RPC_DURATION_METRIC,
    () =>
      new Histogram<"service" | "method">({
        name: RPC_DURATION_METRIC,
        help: "RPC duration in seconds, by service and method (streams until they end).",
        labelNames: ["service", "method"],
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
        registers: [registry],
      }),
  );
  const byMethod = new Map<DescMethod, MethodMetrics>();
  const record = (method: DescMethod, code: number, startMs: number): void => {
    let m = byMethod.get(method);
    if (m === undefined) {
      m = { duration: duration.labels(method.parent.typeName, method.name), calls: [] };
      byMethod.set(method, m);
    }
    let counter = m.calls[code];
    if (counter === undefined) {
      counter = calls.labels(method.parent.typeName, method.name, codeNames[code] ?? String(code));
      m.calls[code] = counter;
    }
    counter.inc();
    m.duration.observe((performance.now() - startMs) / 1000);
  };
  return (next) => async (req) => {
    const startMs = performance.now();
    let res;
    try {
      res = await next(req);
    } catch (error) {
      record(req.method, ConnectError.from(error).code, startMs);
      throw error;
    }
    if (!res.stream) {
      record(req.method, 0, startMs);
      return res;
    }
    return { ...res, message: recordStreamEnd(res.message, req.method, startMs, record) };
  };
}

async function* recordStreamEnd<T>(
  source: AsyncIterable<T>,
  method: DescMethod,
  startMs: number,
  record: (method: DescMethod, code: number, startMs: number) => void,
): AsyncIterable<T> {
  let code: number = Code.Canceled;
  try {
    yield* source;
    code = 0;
  } catch (error) {
    code = ConnectError.from(error).code;
    throw error;
  } finally {
    record(method, code, startMs);
  }
}
