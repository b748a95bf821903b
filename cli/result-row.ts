import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { Result } from "../gen/disio/v1/admin_service_pb.js";
import { Encoding } from "../gen/disio/v1/common_pb.js";

/**
 * Stored bytes as JSON text for a row: JSON projects' values verbatim (the manager validated them;
 * outputs are in canonical form, which re-parsing would break: integer-like keys reorder, large
 * integers round), bytes projects' as a base64 string. Line breaks, which JSON allows only as
 * whitespace between tokens, become spaces so a row stays one line.
 */
function jsonText(bytes: Uint8Array, encoding: Encoding): string {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (encoding === Encoding.BYTES) return `"${view.toString("base64")}"`;
  const text = view.toString("utf8");
  return text.includes("\n") || text.includes("\r") ? text.replace(/[\r\n]+/g, " ") : text;
}

/**
 * One line of `disio results`: `{"unit","input","output","outputHash","finishTime","copies","cursor"}`
 * (finishTime left out when unset). Written as one template, not through an object and
 * JSON.stringify: `results --out` formats 100,000 rows a second.
 */
export function resultRow(result: Result, encodings: { input: Encoding; output: Encoding }): string {
  const finishTime = result.finishTime ? `"finishTime":"${timestampDate(result.finishTime).toISOString()}",` : "";
  return (
    `{"unit":${JSON.stringify(result.unitId)},"input":${jsonText(result.input, encodings.input)},"output":${jsonText(result.output, encodings.output)},` +
    `"outputHash":${JSON.stringify(result.outputHash)},${finishTime}"copies":${result.copiesSent},"cursor":${JSON.stringify(result.cursor)}}`
  );
}
