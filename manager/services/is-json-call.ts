import type { HandlerContext } from "@connectrpc/connect";

/**
 * True when the call uses the JSON codec (Connect, gRPC or gRPC-web): unknown fields do not reach
 * it, so responses pre-encoded into unknown fields (Lease, WatchResults) must take the typed path.
 */
export function isJsonCall(call: HandlerContext): boolean {
  return (call.requestHeader.get("content-type") ?? "").includes("json");
}
