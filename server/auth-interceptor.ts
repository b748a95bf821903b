import type { Interceptor } from "@connectrpc/connect";
import { principalKey } from "./principal-key.js";
import type { Authenticate, ServicePolicy } from "./server-options.js";

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), else undefined. */
export function bearerToken(authorization: string | null): string | undefined {
  if (authorization === null || authorization.length < 8) return undefined;
  if (authorization.slice(0, 7).toLowerCase() !== "bearer ") return undefined;
  const token = authorization.slice(7).trim();
  return token === "" ? undefined : token;
}

/**
 * Authenticates calls to services whose policy has an `authenticate` (except its
 * `anonymousMethods`) and stores the principal under {@link principalKey}. Whatever `authenticate`
 * throws (normally `UnauthenticatedError`) fails the call; the error interceptor maps it. Returns
 * undefined when no policy authenticates, so the chain stays one step shorter.
 */
export function createAuthInterceptor(policies: readonly ServicePolicy[]): Interceptor | undefined {
  const byService = new Map<string, { authenticate: Authenticate; anonymous: ReadonlySet<string> }>();
  for (const policy of policies) {
    if (policy.authenticate === undefined) continue;
    byService.set(policy.service, {
      authenticate: policy.authenticate,
      anonymous: new Set(policy.anonymousMethods ?? []),
    });
  }
  if (byService.size === 0) return undefined;
  return (next) => async (req) => {
    const policy = byService.get(req.service.typeName);
    if (policy === undefined || policy.anonymous.has(req.method.name)) return next(req);
    const principal = await policy.authenticate({
      service: req.service.typeName,
      method: req.method.name,
      token: bearerToken(req.header.get("authorization")),
    });
    req.contextValues.set(principalKey, principal);
    return next(req);
  };
}
