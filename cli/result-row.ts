import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Result } from "../gen/disio/v1/admin_service_pb.js";
import { Encoding } from "../gen/disio/v1/common_pb.js";

const decoder = new TextDecoder();

/** Decodes stored bytes for output: JSON projects give their JSON value, bytes projects base64. */
function decode(bytes: Uint8Array, encoding: Encoding): unknown {
  if (encoding === Encoding.BYTES) return Buffer.from(bytes).toString("base64");
  return JSON.parse(decoder.decode(bytes));
}

/** One line of `disio results`: `{"unit","input","output","outputHash","finishTime","copies","cursor"}`. */
export function resultRow(result: Result, encodings: { input: Encoding; output: Encoding }): string {
  return JSON.stringify({
    unit: result.unitId,
    input: decode(result.input, encodings.input),
    output: decode(result.output, encodings.output),
    outputHash: result.outputHash,
    finishTime: result.finishTime ? timestampDate(result.finishTime).toISOString() : undefined,
    copies: result.copiesSent,
    cursor: result.cursor,
  });
}
