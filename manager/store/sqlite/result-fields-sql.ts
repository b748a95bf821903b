import { WireType } from "@bufbuild/protobuf/wire";
import { int32Size, int64Size, stringFieldSize, varintSize, Writer } from "../../../wire/sized-writer.js";

/**
 * A finished unit's `disio.v1.Result` fields 3–7 (`input`, `output`, `output_hash`, `finish_time`,
 * `copies_sent`) in protobuf binary form, byte for byte as protobuf-es's `toBinary` writes them
 * (empty fields left out, `finish_time` always present), kept in the unit's `result_fields` column.
 *
 * Why: `disio results --out` paid 5–9 µs per row in the manager reading the JOIN of `results` and
 * `units` with two blobs (input and output) per row, then encoding each Result. With the fields kept
 * in one blob written when the unit finishes, a page is one blob per row copied as is between the
 * few fields that are cheap to write (ids, cursor, flags; see results-response-encoder.ts).
 *
 * Written by the statements that finish units: the input (3) and copies sent (7), which the finish
 * paths do not hold, in SQL; the fields between them from JavaScript ({@link resultFieldsMiddle}).
 * Costs the stored size of the input and output again, and a few µs per finished unit. Varints in
 * SQL are built with `printf`/`unhex` for values below 2^35 (lengths of SQLite values, copy counts),
 * which covers every value these fields take.
 */

/** A varint of the non-negative integer SQL expression `e` (below 2^35), as a blob. */
function varint(e: string): string {
  const byte = (shift: number, last: boolean) => (last ? `(${e}) >> ${shift}` : `((${e}) >> ${shift} & 127) | 128`);
  const branch = (bytes: number) => {
    const parts = Array.from({ length: bytes }, (_, i) => byte(7 * i, i === bytes - 1));
    return `unhex(printf('${"%02X".repeat(bytes)}', ${parts.join(", ")}))`;
  };
  return `CASE WHEN (${e}) < 128 THEN ${branch(1)} WHEN (${e}) < 16384 THEN ${branch(2)} WHEN (${e}) < 2097152 THEN ${branch(3)} WHEN (${e}) < 268435456 THEN ${branch(4)} ELSE ${branch(5)} END`;
}

/** A length-delimited field (one-byte `tag`) holding blob expression `value`, left out when empty. */
function lengthDelimited(tag: number, value: string): string {
  const size = `length(${value})`;
  return `CASE WHEN ${size} > 0 THEN concat(x'${hexByte(tag)}', ${varint(size)}, ${value}) ELSE x'' END`;
}

function hexByte(value: number): string {
  return value.toString(16).padStart(2, "0");
}

/**
 * The SQL expression of the fields blob, from SQL expressions of the unit's input (blob), its
 * fields 4–6 (blob: {@link resultFieldsMiddle}, NULL for a unit that finished without a result)
 * and copies sent (integer). NULL when the middle is NULL.
 */
export function resultFieldsSql(input: string, middle: string, copiesSent: string): string {
  const inputField = lengthDelimited(0x1a, `CAST(${input} AS BLOB)`);
  const copiesField = `CASE WHEN (${copiesSent}) <> 0 THEN concat(x'38', ${varint(copiesSent)}) ELSE x'' END`;
  return `CASE WHEN ${middle} IS NULL THEN NULL ELSE CAST(concat(${inputField}, ${middle}, ${copiesField}) AS BLOB) END`;
}

/**
 * A Result's `output` (4), `output_hash` (5) and `finish_time` (6) fields of a unit finished at
 * `ms` (not negative), as protobuf-es writes them (`finish_time` as `timestampFromMs(ms)`: seconds
 * and nanos, each left out when zero). Built in JavaScript, where the finish paths hold these
 * values: in SQL their varints cost more than the rest of the finish.
 */
export function resultFieldsMiddle(output: Uint8Array, hash: string, ms: number): Buffer {
  const seconds = Math.floor(ms / 1000);
  const nanos = (ms - seconds * 1000) * 1_000_000;
  const time = (seconds !== 0 ? 1 + int64Size(seconds) : 0) + (nanos !== 0 ? 1 + int32Size(nanos) : 0);
  const size = (output.length > 0 ? 1 + varintSize(output.length) + output.length : 0) + stringFieldSize(hash) + 2 + time;
  const buf = Buffer.allocUnsafe(size);
  const out = new Writer(buf);
  if (output.length > 0) out.bytesField(4, output);
  out.stringField(5, hash);
  out.tag(6, WireType.LengthDelimited);
  out.varint(time);
  if (seconds !== 0) out.int64Field(1, seconds);
  if (nanos !== 0) out.int32Field(2, nanos);
  return buf;
}
