import type { UnknownField } from "@bufbuild/protobuf";
import type { Task } from "../../gen/disio/v1/common_pb.js";
import type { WorkResponse } from "../../gen/disio/v1/distributor_service_pb.js";
import { LEN, VARINT, WireReader } from "../../wire/wire-reader.js";

const EMPTY = new Uint8Array(0);

/**
 * Reads a Work stream message from the unknown fields of a message decoded with an empty schema
 * (fromBinary then only slices it, one field per task), into the same plain objects protobuf-es's
 * fromBinary makes (a differential test checks equality). Inputs stay views of the message.
 *
 * Why: the reflective decode of tasks was the largest share of the worker primary's CPU (~3 of 11
 * busy seconds over 200,000 units). Fields this version does not know are skipped.
 */
export function decodeWorkResponse(fields: readonly UnknownField[] | undefined): WorkResponse {
  const response: WorkResponse = { $typeName: "disio.v1.WorkResponse", tasks: [], pause: false, cancelledCopyIds: [] };
  for (const field of fields ?? []) {
    const reader = new WireReader(field.data, "WorkResponse");
    if (field.no === 1 && field.wireType === LEN) response.tasks.push(readTask(reader, reader.length()));
    else if (field.no === 2 && field.wireType === VARINT) response.pause = reader.varint() !== 0;
    else if (field.no === 3 && field.wireType === VARINT) response.inHand = reader.varint() % 2 ** 32;
    else if (field.no === 4 && field.wireType === LEN) response.cancelledCopyIds.push(reader.string(reader.length()));
  }
  return response;
}

function readTask(reader: WireReader, length: number): Task {
  const task: Task = {
    $typeName: "disio.v1.Task",
    copyId: "",
    unitId: "",
    projectId: "",
    programHash: "",
    input: EMPTY,
    inputEncoding: 0,
    outputEncoding: 0,
    deadline: undefined,
    priority: 0,
  };
  const end = reader.pos + length;
  while (reader.pos < end) {
    const tag = reader.varint();
    const no = tag >>> 3;
    const wireType = tag & 7;
    if (wireType === LEN) {
      const size = reader.length();
      if (no === 1) task.copyId = reader.string(size);
      else if (no === 2) task.unitId = reader.string(size);
      else if (no === 3) task.projectId = reader.string(size);
      else if (no === 4) task.programHash = reader.string(size);
      else if (no === 5) task.input = reader.bytes(size);
      // A repeated message field merges into the earlier one (the distributor appends its deadline).
      else if (no === 8) task.deadline = reader.secondsNanos(size, task.deadline ?? { $typeName: "google.protobuf.Timestamp" as const, seconds: 0n, nanos: 0 });
      else reader.pos += size;
    } else if (wireType === VARINT && no === 6) task.inputEncoding = reader.int64Number() | 0;
    else if (wireType === VARINT && no === 7) task.outputEncoding = reader.int64Number() | 0;
    else if (wireType === VARINT && no === 9) task.priority = reader.int64Number() | 0;
    else reader.skip(wireType);
  }
  reader.expectEnd(end);
  return task;
}
