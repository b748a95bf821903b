import type { MessageInitShape } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import type { TaskResultSchema } from "../../gen/disio/v1/common_pb.js";
import { DistributorServiceReportRequestSchema, type DistributorServiceReportRequest } from "../../gen/disio/v1/distributor_service_pb.js";
import { encodedMessage } from "../../wire/encoded-message.js";
import { int64Size, lengthFieldSize, stringFieldSize, utf8Size, varintSize, Writer } from "../../wire/sized-writer.js";

type ReportInit = MessageInitShape<typeof DistributorServiceReportRequestSchema>;
type ResultInit = MessageInitShape<typeof TaskResultSchema>;
/** A Duration or Timestamp as either may be given: seconds and nanos, both optional. */
type SecondsNanos = { seconds?: bigint; nanos?: number } | undefined;

/**
 * A Report request written straight into one buffer, for the clients' binary transports: the
 * bytes equal what `toBinary` of the typed request writes (a differential test checks), and ride
 * in unknown fields, so this is for the binary codec only.
 *
 * Why: protobuf-es's reflective toBinary of a Report of 1,000 results was, with the tasks' decode,
 * the largest share of the worker primary's CPU (~2 of 11 busy seconds over 200,000 units).
 */
export function encodeReportRequest(request: ReportInit): DistributorServiceReportRequest {
  const results = request.results ?? [];
  const sizes = new Array<number>(results.length);
  let total = 0;
  for (let i = 0; i < results.length; i++) {
    sizes[i] = resultSize(results[i]!);
    total += lengthFieldSize(sizes[i]!);
  }
  if (request.slots !== undefined) total += 1 + varintSize(request.slots);
  for (const copyId of request.returnedCopyIds ?? []) total += 1 + varintSize(utf8Size(copyId)) + utf8Size(copyId);
  const out = new Writer(new Uint8Array(total));
  for (let i = 0; i < results.length; i++) {
    out.tag(1, WireType.LengthDelimited);
    out.varint(sizes[i]!);
    writeResult(out, results[i]!);
  }
  if (request.slots !== undefined) {
    out.tag(2, WireType.Varint);
    out.varint(request.slots);
  }
  for (const copyId of request.returnedCopyIds ?? []) {
    const size = utf8Size(copyId);
    out.tag(3, WireType.LengthDelimited);
    out.varint(size);
    out.utf8(copyId, size);
  }
  return encodedMessage(DistributorServiceReportRequestSchema, out.buf);
}

function resultSize(r: ResultInit): number {
  let size = stringFieldSize(r.copyId ?? "");
  const outcome = r.outcome;
  if (outcome?.case === "output") size += lengthFieldSize(outcome.value.length);
  else if (outcome?.case === "error") size += lengthFieldSize(stringFieldSize(outcome.value.message ?? "") + stringFieldSize(outcome.value.kind ?? ""));
  if (r.duration !== undefined) size += lengthFieldSize(secondsNanosSize(r.duration));
  size += stringFieldSize(r.clientId ?? "");
  if (r.receiveTime !== undefined) size += lengthFieldSize(secondsNanosSize(r.receiveTime));
  return size + stringFieldSize(r.unitId ?? "") + stringFieldSize(r.clientKey ?? "") + stringFieldSize(r.clientHost ?? "");
}

function writeResult(out: Writer, r: ResultInit): void {
  out.stringField(1, r.copyId ?? "");
  const outcome = r.outcome;
  if (outcome?.case === "output") out.bytesField(2, outcome.value);
  else if (outcome?.case === "error") {
    out.tag(3, WireType.LengthDelimited);
    out.varint(stringFieldSize(outcome.value.message ?? "") + stringFieldSize(outcome.value.kind ?? ""));
    out.stringField(1, outcome.value.message ?? "");
    out.stringField(2, outcome.value.kind ?? "");
  }
  if (r.duration !== undefined) writeSecondsNanos(out, 4, r.duration);
  out.stringField(5, r.clientId ?? "");
  if (r.receiveTime !== undefined) writeSecondsNanos(out, 6, r.receiveTime);
  out.stringField(7, r.unitId ?? "");
  out.stringField(8, r.clientKey ?? "");
  out.stringField(9, r.clientHost ?? "");
}

function secondsNanosSize(value: SecondsNanos): number {
  const seconds = Number(value?.seconds ?? 0n);
  const nanos = value?.nanos ?? 0;
  return (seconds !== 0 ? 1 + int64Size(seconds) : 0) + (nanos !== 0 ? 1 + int64Size(nanos) : 0);
}

function writeSecondsNanos(out: Writer, field: number, value: SecondsNanos): void {
  out.tag(field, WireType.LengthDelimited);
  out.varint(secondsNanosSize(value));
  const seconds = Number(value?.seconds ?? 0n);
  const nanos = value?.nanos ?? 0;
  if (seconds !== 0) out.int64Field(1, seconds);
  if (nanos !== 0) out.int32Field(2, nanos);
}
