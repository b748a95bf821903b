import { Code, type ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { isServerFault, toConnectError } from "./rpc-error.js";

interface CallInfo {
  readonly service: { readonly typeName: string };
  readonly method: { readonly name: string };
  readonly signal: AbortSignal;
}

/**
 * The one place domain errors become Connect codes (see {@link toConnectError}), for unary calls
 * and for errors raised while a response stream runs. Logs one line per failed call: `warn` for
 * faults of the caller, `error` (with the original error) for ours. Successful calls cost a
 * try/catch and nothing else.
 */
export function createErrorInterceptor(log: Logger): Interceptor {
  const fail = (call: CallInfo, error: unknown): ConnectError => {
    const mapped = toConnectError(error, call.signal);
    const fields = { service: call.service.typeName, method: call.method.name, code: Code[mapped.code] };
    if (isServerFault(mapped.code)) {
      log.error({ ...fields, err: mapped.cause ?? mapped }, "rpc failed");
    } else {
      log.warn({ ...fields, reason: mapped.rawMessage }, "rpc failed");
    }
    return mapped;
  };
  return (next) => async (req) => {
    try {
      const res = await next(req);
      if (!res.stream) return res;
      return { ...res, message: mapStreamErrors(res.message, req, fail) };
    } catch (error) {
      throw fail(req, error);
    }
  };
}

async function* mapStreamErrors<T>(
  source: AsyncIterable<T>,
  call: CallInfo,
  fail: (call: CallInfo, error: unknown) => ConnectError,
): AsyncIterable<T> {
  try {
    yield* source;
  } catch (error) {
    throw fail(call, error);
  }
}
