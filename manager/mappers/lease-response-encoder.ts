import { create } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import { LeaseResponseSchema, type LeaseResponse } from "../../gen/disio/v1/manager_service_pb.js";
import type { LeasedTask } from "../store/store.js";
import { toProtoEncoding } from "./enums.js";
import { int32Size, int64Size, stringFieldSize, varintSize, Writer } from "../../wire/sized-writer.js";

/** `disio.v1.LeaseResponse.tasks`. */
const TASKS_FIELD = 1;

/**
 * A LeaseResponse whose tasks are already in protobuf binary form, for binary (non-JSON) calls.
 *
 * Why: encoding thousands of `Task` messages per Lease through protobuf-es reflection (create, then
 * toBinary) cost the manager ~15 µs of CPU per leased copy, a large share of its budget at 20k
 * units/s. Here every task is written straight into one buffer, with the fields all tasks of a
 * project share (project id, program hash, encodings, deadline) encoded once per project.
 *
 * The buffer rides in the message's unknown fields, which `toBinary` writes back verbatim as
 * `tag(1, LEN)` followed by the entry's bytes: one entry holding the first task's length and bytes,
 * then `tag(1, LEN)`, length and bytes of each further task. So the wire carries the repeated
 * field 1 (`tasks`) exactly as `toBinary` of the same tasks would (a test checks byte equality),
 * while toBinary appends one chunk instead of two small allocations per task.
 * JSON serialisation drops unknown fields: JSON calls must use {@link toProtoTask} instead.
 */
export function encodeLeaseResponse(tasks: readonly LeasedTask[]): LeaseResponse {
  const response = create(LeaseResponseSchema);
  if (tasks.length === 0) return response;
  const shared = new Map<string, [Uint8Array, Uint8Array]>();
  const parts = new Array<[Uint8Array, Uint8Array]>(tasks.length);
  const sizes = new Array<number>(tasks.length);
  let total = 0;
  for (let i = 0; i < tasks.length; i++) {
    const t = tasks[i]!;
    const key = `${t.projectId}\n${t.programHash}\n${t.inputEncoding}\n${t.outputEncoding}\n${t.deadlineMs}`;
    let fields = shared.get(key);
    if (fields === undefined) {
      fields = sharedFields(t);
      shared.set(key, fields);
    }
    parts[i] = fields;
    const size =
      stringFieldSize(t.copyId) +
      stringFieldSize(t.unitId) +
      fields[0].length +
      (t.input.length > 0 ? 1 + varintSize(t.input.length) + t.input.length : 0) +
      fields[1].length +
      (t.priority !== 0 ? 1 + int32Size(t.priority) : 0);
    sizes[i] = size;
    total += (i > 0 ? 1 : 0) + varintSize(size) + size;
  }
  const out = new Writer(Buffer.allocUnsafe(total));
  for (let i = 0; i < tasks.length; i++) {
    const t = tasks[i]!;
    if (i > 0) out.tag(TASKS_FIELD, WireType.LengthDelimited);
    out.varint(sizes[i]!);
    out.stringField(1, t.copyId);
    out.stringField(2, t.unitId);
    out.bytes(parts[i]![0]);
    if (t.input.length > 0) out.bytesField(5, t.input);
    out.bytes(parts[i]![1]);
    if (t.priority !== 0) out.int32Field(9, t.priority);
  }
  response.$unknown = [{ no: TASKS_FIELD, wireType: WireType.LengthDelimited, data: out.buf }];
  return response;
}

/**
 * Fields 3–4 (project id, program hash) and 6–8 (encodings, deadline) of a task, encoded: the parts
 * around the per-task input that all tasks of one project in one lease share.
 */
function sharedFields(t: LeasedTask): [Uint8Array, Uint8Array] {
  const seconds = Math.floor(t.deadlineMs / 1000);
  const nanos = (t.deadlineMs - seconds * 1000) * 1_000_000;
  const timestampSize = (seconds !== 0 ? 1 + int64Size(seconds) : 0) + (nanos !== 0 ? 1 + int32Size(nanos) : 0);
  const inputEncoding = toProtoEncoding(t.inputEncoding);
  const outputEncoding = toProtoEncoding(t.outputEncoding);
  const head = new Writer(Buffer.allocUnsafe(stringFieldSize(t.projectId) + stringFieldSize(t.programHash)));
  head.stringField(3, t.projectId);
  head.stringField(4, t.programHash);
  const tailSize =
    (inputEncoding !== 0 ? 1 + int32Size(inputEncoding) : 0) +
    (outputEncoding !== 0 ? 1 + int32Size(outputEncoding) : 0) +
    1 +
    varintSize(timestampSize) +
    timestampSize;
  const tail = new Writer(Buffer.allocUnsafe(tailSize));
  if (inputEncoding !== 0) tail.int32Field(6, inputEncoding);
  if (outputEncoding !== 0) tail.int32Field(7, outputEncoding);
  tail.tag(8, WireType.LengthDelimited);
  tail.varint(timestampSize);
  if (seconds !== 0) tail.int64Field(1, seconds);
  if (nanos !== 0) tail.int32Field(2, nanos);
  return [head.buf, tail.buf];
}
