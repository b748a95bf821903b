import { create } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import { WatchResultsResponseSchema, type WatchResultsResponse } from "../../gen/disio/v1/admin_service_pb.js";
import type { ResultRecord } from "../store/store.js";
import { int32Size, int64Size, stringFieldSize, varintSize, Writer } from "../../wire/sized-writer.js";

/** `disio.v1.WatchResultsResponse.results`. */
const RESULTS_FIELD = 1;

/**
 * A WatchResultsResponse already in protobuf binary form, for binary (non-JSON) calls.
 *
 * Why: WatchResults carries every result to the submitter, and encoding each `Result` through
 * protobuf-es reflection (create, timestampFromMs, then toBinary with its per-field chunks) cost the
 * manager about a quarter of its CPU in a side-by-side run. Here the whole message is written into
 * one exactly sized buffer.
 *
 * The buffer rides in the message's unknown fields, which `toBinary` writes back verbatim after
 * `tag(1, LEN)`: the entry holds the first result's length and bytes, then each further result's
 * tag, length and bytes, then the cursor (field 2) and project_done (field 3). The known fields stay
 * empty, so the wire carries exactly what `toBinary` of the typed message writes (a test checks
 * byte equality). JSON serialisation drops unknown fields: JSON calls (`usesJsonCodec`) must use
 * `toProtoResult`.
 */
export function encodeWatchResultsResponse(results: readonly ResultRecord[], cursor: string, projectDone: boolean): WatchResultsResponse {
  if (results.length === 0) return create(WatchResultsResponseSchema, { cursor, projectDone });
  const sizes = new Array<number>(results.length);
  let total = stringFieldSize(cursor) + (projectDone ? 2 : 0);
  for (let i = 0; i < results.length; i++) {
    const size = resultSize(results[i]!);
    sizes[i] = size;
    total += (i > 0 ? 1 : 0) + varintSize(size) + size;
  }
  const out = new Writer(Buffer.allocUnsafe(total));
  for (let i = 0; i < results.length; i++) {
    if (i > 0) out.tag(RESULTS_FIELD, WireType.LengthDelimited);
    out.varint(sizes[i]!);
    writeResult(out, results[i]!);
  }
  out.stringField(2, cursor);
  if (projectDone) {
    out.tag(3, WireType.Varint);
    out.varint(1);
  }
  const response = create(WatchResultsResponseSchema);
  response.$unknown = [{ no: RESULTS_FIELD, wireType: WireType.LengthDelimited, data: out.buf }];
  return response;
}

/** `finish_time` as protobuf-es's timestampFromMs splits it. */
function timestampParts(ms: number): [seconds: number, nanos: number] {
  const seconds = Math.floor(ms / 1000);
  return [seconds, (ms % 1000) * 1_000_000];
}

function timestampSize(ms: number): number {
  const [seconds, nanos] = timestampParts(ms);
  return (seconds !== 0 ? 1 + int64Size(seconds) : 0) + (nanos !== 0 ? 1 + int32Size(nanos) : 0);
}

function bytesFieldSize(value: Uint8Array): number {
  return value.length > 0 ? 1 + varintSize(value.length) + value.length : 0;
}

/** Bytes of one `Result` message body. */
function resultSize(r: ResultRecord): number {
  const time = timestampSize(r.finishedAtMs);
  return (
    stringFieldSize(r.unitId) +
    stringFieldSize(r.projectId) +
    bytesFieldSize(r.input) +
    bytesFieldSize(r.output) +
    stringFieldSize(r.outputHash) +
    1 +
    varintSize(time) +
    time +
    (r.copiesSent !== 0 ? 1 + varintSize(r.copiesSent) : 0) +
    stringFieldSize(r.cursor) +
    (r.selfAgreement ? 2 : 0) +
    (r.unreplicated ? 2 : 0)
  );
}

/** Writes one `Result` message body, fields in number order as toBinary does. */
function writeResult(out: Writer, r: ResultRecord): void {
  out.stringField(1, r.unitId);
  out.stringField(2, r.projectId);
  if (r.input.length > 0) out.bytesField(3, r.input);
  if (r.output.length > 0) out.bytesField(4, r.output);
  out.stringField(5, r.outputHash);
  const [seconds, nanos] = timestampParts(r.finishedAtMs);
  out.tag(6, WireType.LengthDelimited);
  out.varint(timestampSize(r.finishedAtMs));
  if (seconds !== 0) out.int64Field(1, seconds);
  if (nanos !== 0) out.int32Field(2, nanos);
  if (r.copiesSent !== 0) {
    out.tag(7, WireType.Varint);
    out.varint(r.copiesSent);
  }
  out.stringField(8, r.cursor);
  if (r.selfAgreement) {
    out.tag(9, WireType.Varint);
    out.varint(1);
  }
  if (r.unreplicated) {
    out.tag(10, WireType.Varint);
    out.varint(1);
  }
}
