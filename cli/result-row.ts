import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Result } from "../gen/disio/v1/admin_service_pb.js";
import { Encoding } from "../gen/disio/v1/common_pb.js";

const decoder = new TextDecoder();

/**
 * Stored bytes as JSON text for a row: JSON projects' values verbatim (the manager validated them;
 * outputs are in canonical form, which re-parsing would break: integer-like keys reorder, large
 * integers round), bytes projects' as a base64 string. Line breaks, which JSON allows only as
 * whitespace between tokens, become spaces so a row stays one line.
 */
function jsonText(bytes: Uint8Array, encoding: Encoding): string {
  if (encoding === Encoding.BYTES) return JSON.stringify(Buffer.from(bytes).toString("base64"));
  return decoder.decode(bytes).replace(/[\r\n]+/g, " ");
}

/** One line of `disio results`: `{"unit","input","output","outputHash","finishTime","copies","cursor"}`. */
export function resultRow(result: Result, encodings: { input: Encoding; output: Encoding }): string {
  const rest = JSON.stringify({
    outputHash: result.outputHash,
    finishTime: result.finishTime ? timestampDate(result.finishTime).toISOString() : undefined,
    copies: result.copiesSent,
    cursor: result.cursor,
  });
  const input = jsonText(result.input, encodings.input);
  const output = jsonText(result.output, encodings.output);
  return `{"unit":${JSON.stringify(result.unitId)},"input":${input},"output":${output},${rest.slice(1)}`;
}
