import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import {
  ListResultsResponseSchema,
  WatchResultsResponseSchema,
  type ListResultsResponse,
  type WatchResultsResponse,
} from "../../gen/disio/v1/admin_service_pb.js";
import type { ResultRecord } from "../store/store.js";
import { encodedMessage } from "../../wire/encoded-message.js";
import { stringFieldSize, varintSize, Writer } from "../../wire/sized-writer.js";
import { WireType } from "@bufbuild/protobuf/wire";

/** `results` of ListResultsResponse and WatchResultsResponse. */
const RESULTS_FIELD = 1;
/** `next_cursor` (ListResultsResponse) and `cursor` (WatchResultsResponse). */
const CURSOR_FIELD = 2;
/** `project_done` of WatchResultsResponse. */
const PROJECT_DONE_FIELD = 3;

/**
 * A ListResultsResponse already in protobuf binary form, for binary (non-JSON) calls.
 *
 * Why: protobuf-es reflection (create per Result, then toBinary) cost the manager 40–65 ms per
 * 1,000 results, most of `disio results --out`'s time. Here the page is written straight into one
 * buffer sized in advance, each Result's stored fields copied as they are (ResultRecord.fields), and rides in the message's unknown fields, which `toBinary` writes back
 * verbatim: the wire carries exactly what `toBinary` of the typed message would (a test checks byte
 * equality). JSON serialisation drops unknown fields: JSON calls must use the typed message.
 */
export function encodeListResultsResponse(results: readonly ResultRecord[], nextCursor: string): ListResultsResponse {
  return encoded(ListResultsResponseSchema, results, nextCursor, false);
}

/** A WatchResultsResponse batch in binary form, as {@link encodeListResultsResponse} (same fields 1 and 2, plus 3). */
export function encodeWatchResultsResponse(results: readonly ResultRecord[], cursor: string, projectDone: boolean): WatchResultsResponse {
  return encoded(WatchResultsResponseSchema, results, cursor, projectDone);
}

function encoded<Desc extends DescMessage>(schema: Desc, results: readonly ResultRecord[], cursor: string, projectDone: boolean): MessageShape<Desc> {
  const sizes = new Array<number>(results.length);
  let total = stringFieldSize(cursor) + (projectDone ? 2 : 0);
  for (let i = 0; i < results.length; i++) {
    const size = resultSize(results[i]!);
    sizes[i] = size;
    total += 1 + varintSize(size) + size;
  }
  const out = new Writer(Buffer.allocUnsafe(total));
  for (let i = 0; i < results.length; i++) {
    out.tag(RESULTS_FIELD, WireType.LengthDelimited);
    out.varint(sizes[i]!);
    writeResult(out, results[i]!);
  }
  out.stringField(CURSOR_FIELD, cursor);
  if (projectDone) {
    out.tag(PROJECT_DONE_FIELD, WireType.Varint);
    out.varint(1);
  }
  return encodedMessage(schema, out.buf);
}

/** `disio.v1.Result` fields, in field-number order as protobuf-es writes them. */
function resultSize(r: ResultRecord): number {
  return (
    stringFieldSize(r.unitId) +
    stringFieldSize(r.projectId) +
    r.fields.length +
    stringFieldSize(r.cursor) +
    (r.selfAgreement ? 2 : 0) +
    (r.unreplicated ? 2 : 0)
  );
}

function writeResult(out: Writer, r: ResultRecord): void {
  out.stringField(1, r.unitId);
  out.stringField(2, r.projectId);
  // Fields 3–7, as stored when the unit finished.
  out.bytes(r.fields);
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
