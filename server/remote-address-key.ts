import { createContextKey } from "@connectrpc/connect";

/**
 * The caller's remote IP address as the socket saw it (`""` when unknown). Set for every RPC by the
 * port's listener; handlers read it with `ctx.values.get(remoteAddressKey)`. Behind a reverse proxy
 * it is the proxy's address.
 */
export const remoteAddressKey = createContextKey<string>("", { description: "disio remote address" });
