import type { UnknownField } from "@bufbuild/protobuf";
import type { Result } from "../gen/disio/v1/admin_service_pb.js";
import { LEN, VARINT, WireReader } from "../wire/wire-reader.js";

/** A page of results as {@link decodeResultPage} reads it. */
export interface ResultPage {
  /** The results, in finishing order. */
  results: Result[];
  /** ListResultsResponse.next_cursor or WatchResultsResponse.cursor (field 2). */
  cursor: string;
  /** WatchResultsResponse.project_done (field 3); false for a ListResults page. */
  projectDone: boolean;
}


/**
 * Reads a ListResultsResponse or WatchResultsResponse (both: `results` = 1, cursor = 2, and
 * `project_done` = 3 for the latter) from the unknown fields of a message decoded with an empty
 * schema, which fromBinary fills with subarrays of the page without reading them.
 *
 * Why: protobuf-es's reflective fromBinary took 20–40 ms per 1,000 results, the client's share of
 * `disio results --out`. This reads each Result straight from the wire into the same plain object
 * fromBinary makes (a differential test checks equality); inputs and outputs stay views of the page.
 * Fields this version does not know are skipped.
 */
export function decodeResultPage(fields: readonly UnknownField[] | undefined): ResultPage {
  const page: ResultPage = { results: [], cursor: "", projectDone: false };
  for (const field of fields ?? []) {
    const reader = new WireReader(field.data, "Result");
    if (field.no === 1 && field.wireType === LEN) page.results.push(readResult(reader, reader.length()));
    else if (field.no === 2 && field.wireType === LEN) page.cursor = reader.string(reader.length());
    else if (field.no === 3 && field.wireType === VARINT) page.projectDone = reader.varint() !== 0;
  }
  return page;
}

function readResult(reader: WireReader, length: number): Result {
  const result: Result = {
    $typeName: "disio.v1.Result",
    unitId: "",
    projectId: "",
    input: EMPTY,
    output: EMPTY,
    outputHash: "",
    finishTime: undefined,
    copiesSent: 0,
    cursor: "",
    selfAgreement: false,
    unreplicated: false,
  };
  const end = reader.pos + length;
  while (reader.pos < end) {
    const tag = reader.varint();
    const [no, wireType] = [tag >>> 3, tag & 7];
    if (wireType === LEN) {
      const size = reader.length();
      if (no === 1) result.unitId = reader.string(size);
      else if (no === 2) result.projectId = reader.string(size);
      else if (no === 3) result.input = reader.bytes(size);
      else if (no === 4) result.output = reader.bytes(size);
      else if (no === 5) result.outputHash = reader.string(size);
      else if (no === 6) result.finishTime = reader.secondsNanos(size, { $typeName: "google.protobuf.Timestamp" as const, seconds: 0n, nanos: 0 });
      else if (no === 8) result.cursor = reader.string(size);
      else reader.pos += size;
    } else if (wireType === VARINT && no === 7) result.copiesSent = reader.varint() >>> 0;
    else if (wireType === VARINT && no === 9) result.selfAgreement = reader.varint() !== 0;
    else if (wireType === VARINT && no === 10) result.unreplicated = reader.varint() !== 0;
    else reader.skip(wireType);
  }
  reader.expectEnd(end);
  return result;
}

const EMPTY = new Uint8Array(0);
