import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";

/**
 * A message of `schema` whose whole binary form is `bytes`, written by hand: the bytes ride in its
 * unknown fields, which `toBinary` writes back verbatim as each entry's tag and data. The first tag
 * becomes the entry's field number and wire type, everything after it the data, so `toBinary`
 * gives back exactly `bytes`. Only for the binary codec: JSON serialisation drops unknown fields.
 * `bytes` must start with a one-byte tag (a field number below 16).
 */
export function encodedMessage<Desc extends DescMessage>(schema: Desc, bytes: Uint8Array): MessageShape<Desc> {
  const message = create(schema);
  if (bytes.length === 0) return message;
  const first = bytes[0]!;
  message.$unknown = [{ no: first >> 3, wireType: first & 7, data: bytes.subarray(1) }];
  return message;
}
