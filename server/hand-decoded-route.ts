import type { DescMethodUnary, MessageInitShape, MessageShape, UnknownField } from "@bufbuild/protobuf";
import { EmptySchema } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter, HandlerContext } from "@connectrpc/connect";
import { InvalidArgumentError } from "../core/errors.js";

/**
 * Registers a unary method on a binary router (ServerOptions.binaryRoutes) with its input left
 * undecoded: connect's fromBinary, given the empty schema, only slices the request into unknown
 * fields, `decode` reads them by hand into the typed request, and `impl` (the method's typed
 * implementation, shared with the JSON route) answers. Bytes `decode` cannot read are an
 * InvalidArgument, as connect's own decoding failures are.
 */
export function handDecodedRoute<M extends DescMethodUnary>(
  router: ConnectRouter,
  method: M,
  decode: (fields: readonly UnknownField[] | undefined) => MessageShape<M["input"]>,
  impl: (request: MessageShape<M["input"]>, call: HandlerContext) => MessageInitShape<M["output"]> | Promise<MessageInitShape<M["output"]>>,
): void {
  const undecoded = { ...method, input: EmptySchema } as DescMethodUnary<typeof EmptySchema, M["output"]>;
  router.rpc(undecoded, async (request, call) => {
    let decoded: MessageShape<M["input"]>;
    try {
      decoded = decode(request.$unknown);
    } catch (error) {
      throw new InvalidArgumentError("request", error instanceof Error ? error.message : String(error), { cause: error });
    }
    return impl(decoded, call);
  });
}
