import { WireType } from "@bufbuild/protobuf/wire";
import { AddUnitsRequestSchema, type AddUnitsRequest } from "../gen/disio/v1/admin_service_pb.js";
import { encodedMessage } from "../wire/encoded-message.js";
import { stringFieldSize, varintSize, Writer } from "../wire/sized-writer.js";

/**
 * An AddUnitsRequest (priority 0 units) written straight into one buffer, for the SDK's binary
 * transport: protobuf-es reflection (a message per unit, then toBinary) cost the CLI about as much
 * CPU as reading and checking the file. The bytes equal what `toBinary` of the typed request
 * writes (a test checks); they ride in unknown fields, so this is for the binary codec only.
 */
export function encodeAddUnitsRequest(projectId: string, requestId: string, inputs: readonly Uint8Array[]): AddUnitsRequest {
  let total = stringFieldSize(projectId) + stringFieldSize(requestId);
  for (const input of inputs) {
    const unit = unitSize(input);
    total += 1 + varintSize(unit) + unit;
  }
  const out = new Writer(Buffer.allocUnsafe(total));
  out.stringField(1, projectId);
  for (const input of inputs) {
    out.tag(2, WireType.LengthDelimited);
    out.varint(unitSize(input));
    if (input.length > 0) out.bytesField(1, input);
  }
  out.stringField(3, requestId);
  return encodedMessage(AddUnitsRequestSchema, out.buf);
}

/** A UnitInput holding only `input` (priority 0 is not written). */
function unitSize(input: Uint8Array): number {
  return input.length > 0 ? 1 + varintSize(input.length) + input.length : 0;
}
