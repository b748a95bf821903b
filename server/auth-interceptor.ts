import { createContextKey, type ContextValues, type Interceptor } from "@connectrpc/connect";

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), else undefined. */
export function bearerToken(authorization: string | null): string | undefined {
  if (authorization === null || authorization.length < 8) return undefined;
  if (authorization.slice(0, 7).toLowerCase() !== "bearer ") return undefined;
  const token = authorization.slice(7).trim();
  return token === "" ? undefined : token;
}

const authFailureKey = createContextKey<{ error: unknown } | undefined>(undefined, { description: "disio auth failure" });

/** Records, for {@link createAuthInterceptor}, that the request guard refused the caller's token. */
export function setAuthFailure(values: ContextValues, error: unknown): void {
  values.set(authFailureKey, { error });
}

/**
 * Fails the calls whose caller the request guard did not accept, with what `authenticate` threw
 * (normally `UnauthenticatedError`, which the error interceptor maps). The guard authenticates from
 * the headers before any body byte is read and stores the principal itself; it hands connect an
 * empty message instead of the body of a refused call, so the call still runs through the
 * interceptors and is logged and counted like every other failed call.
 */
export function createAuthInterceptor(): Interceptor {
  return (next) => (req) => {
    const failure = req.contextValues.get(authFailureKey);
    if (failure !== undefined) throw failure.error;
    return next(req);
  };
}
