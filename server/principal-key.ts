import { createContextKey } from "@connectrpc/connect";

/**
 * Where the auth interceptor puts the caller's principal (whatever the service's `authenticate`
 * returned). Handlers read it with `ctx.values.get(principalKey)`; it is `undefined` for anonymous
 * calls.
 */
export const principalKey = createContextKey<unknown>(undefined, { description: "disio principal" });
