import type { HandlerContext } from "@connectrpc/connect";

/**
 * True when the call uses the JSON codec (Connect, gRPC or gRPC-web): unknown fields do not reach
 * it, so the hand encoders (which ride in unknown fields) must not answer it.
 */
export function isJsonCall(call: HandlerContext): boolean {
  return (call.requestHeader.get("content-type") ?? "").includes("json");
}
