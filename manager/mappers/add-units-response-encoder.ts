import { WireType } from "@bufbuild/protobuf/wire";
import { AddUnitsResponseSchema, type AddUnitsResponse } from "../../gen/disio/v1/admin_service_pb.js";
import { encodedMessage } from "../../wire/encoded-message.js";
import { stringFieldSize, Writer } from "../../wire/sized-writer.js";

/**
 * An AddUnitsResponse already in protobuf binary form (`unit_ids` = 1, `already_stored` = 2), for
 * binary calls, byte-equal to what `toBinary` of the typed message writes (a test checks).
 *
 * Why: the answer to an AddUnits of 10,000 units is 10,000 ids; protobuf-es's reflective toBinary
 * of them was a visible share of the manager's time per unit added (`disio units add`).
 */
export function encodeAddUnitsResponse(unitIds: readonly string[], alreadyStored: boolean): AddUnitsResponse {
  let size = alreadyStored ? 2 : 0;
  // Repeated strings are written even when empty: a tag and a zero length.
  for (const id of unitIds) size += id.length === 0 ? 2 : stringFieldSize(id);
  const out = new Writer(Buffer.allocUnsafe(size));
  for (const id of unitIds) {
    if (id.length === 0) {
      out.tag(1, WireType.LengthDelimited);
      out.varint(0);
    } else out.stringField(1, id);
  }
  if (alreadyStored) {
    out.tag(2, WireType.Varint);
    out.varint(1);
  }
  return encodedMessage(AddUnitsResponseSchema, out.buf);
}
