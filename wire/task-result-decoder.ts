import type { TaskError, TaskResult } from "../gen/disio/v1/common_pb.js";
import { LEN, VARINT, WireReader } from "./wire-reader.js";

/**
 * Reads a `disio.v1.TaskResult` of `length` bytes at the reader's position into the same plain
 * object protobuf-es's fromBinary makes (differential tests check equality); the output stays a
 * view of the buffer. Fields this version does not know are skipped; a field repeated merges as
 * protobuf does (the last scalar wins, messages merge, the last oneof member wins).
 *
 * Why: the reflective decode cost the distributor and the manager several µs per result, once each.
 */
export function readTaskResult(reader: WireReader, length: number): TaskResult {
  const result: TaskResult = {
    $typeName: "disio.v1.TaskResult",
    copyId: "",
    outcome: { case: undefined },
    duration: undefined,
    clientId: "",
    receiveTime: undefined,
    unitId: "",
    clientKey: "",
    clientHost: "",
    extraOfCopyId: "",
  };
  const end = reader.pos + length;
  while (reader.pos < end) {
    const tag = reader.varint();
    const no = tag >>> 3;
    const wireType = tag & 7;
    if (wireType !== LEN) {
      reader.skip(wireType);
      continue;
    }
    const size = reader.length();
    if (no === 1) result.copyId = reader.string(size);
    else if (no === 2) result.outcome = { case: "output", value: reader.bytes(size) };
    else if (no === 3) result.outcome = { case: "error", value: readTaskError(reader, size, result.outcome.case === "error" ? result.outcome.value : undefined) };
    else if (no === 4) result.duration = reader.secondsNanos(size, result.duration ?? { $typeName: "google.protobuf.Duration" as const, seconds: 0n, nanos: 0 });
    else if (no === 5) result.clientId = reader.string(size);
    else if (no === 6) result.receiveTime = reader.secondsNanos(size, result.receiveTime ?? { $typeName: "google.protobuf.Timestamp" as const, seconds: 0n, nanos: 0 });
    else if (no === 7) result.unitId = reader.string(size);
    else if (no === 8) result.clientKey = reader.string(size);
    else if (no === 9) result.clientHost = reader.string(size);
    else if (no === 10) result.extraOfCopyId = reader.string(size);
    else reader.pos += size;
  }
  reader.expectEnd(end);
  return result;
}

function readTaskError(reader: WireReader, length: number, into: TaskError | undefined): TaskError {
  const error: TaskError = into ?? { $typeName: "disio.v1.TaskError", message: "", kind: "" };
  const end = reader.pos + length;
  while (reader.pos < end) {
    const tag = reader.varint();
    if (tag === (1 << 3) + LEN) error.message = reader.string(reader.length());
    else if (tag === (2 << 3) + LEN) error.kind = reader.string(reader.length());
    else reader.skip(tag & 7);
  }
  reader.expectEnd(end);
  return error;
}
