/**
 * Tasks travel through the distributor as the manager encoded them: it reads the few fields it
 * needs from the bytes and never decodes or re-encodes a whole `Task`. This relies on two protobuf
 * wire rules: an embedded message is wire-identical to `bytes`, and when a singular message field
 * occurs twice the later occurrence wins (merged field by field), so appending a `deadline` to the
 * leased bytes gives the client its own lease.
 */
import { create, fromBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { TaskSchema } from "../gen/disio/v1/common_pb.js";
import { WorkResponseSchema, type WorkResponse } from "../gen/disio/v1/distributor_service_pb.js";
import { encodedMessage } from "../wire/encoded-message.js";
import { lengthFieldSize, Writer } from "../wire/sized-writer.js";
import { LEN, VARINT, WireReader } from "../wire/wire-reader.js";

/** Field numbers of `disio.v1.Task` read or written here. */
const TASK_COPY_ID = 1;
const TASK_UNIT_ID = 2;
const TASK_PROJECT_ID = 3;
const TASK_DEADLINE = 8;
const TASK_PRIORITY = 9;
/** Field number of `WorkResponse.tasks` and `LeaseResponse.tasks`. */
const TASKS_FIELD = 1;

/** What the distributor reads of a task. */
export interface TaskHeader {
  copyId: string;
  unitId: string;
  projectId: string;
  priority: number;
  /** The holder's deadline, ms since epoch; undefined when absent. */
  deadlineMs: number | undefined;
}

/** Reads the header fields of an encoded `Task`; throws on malformed bytes. */
export function scanTask(bytes: Uint8Array): TaskHeader {
  const reader = new WireReader(bytes, "Task");
  const header: TaskHeader = { copyId: "", unitId: "", projectId: "", priority: 0, deadlineMs: undefined };
  while (reader.pos < reader.buf.length) {
    const tag = reader.varint();
    const no = tag >>> 3;
    const wireType = tag & 7;
    if (wireType === LEN) {
      const size = reader.length();
      if (no === TASK_COPY_ID) header.copyId = reader.string(size);
      else if (no === TASK_UNIT_ID) header.unitId = reader.string(size);
      else if (no === TASK_PROJECT_ID) header.projectId = reader.string(size);
      else if (no === TASK_DEADLINE) header.deadlineMs = readTimestampMs(reader, size);
      else reader.pos += size;
    } else if (no === TASK_PRIORITY && wireType === VARINT) header.priority = reader.int64Number() | 0;
    else reader.skip(wireType);
  }
  return header;
}

function readTimestampMs(reader: WireReader, length: number): number {
  const end = reader.pos + length;
  let seconds = 0;
  let nanos = 0;
  while (reader.pos < end) {
    const tag = reader.varint();
    if (tag === (1 << 3) + VARINT) seconds = reader.int64Number();
    else if (tag === (2 << 3) + VARINT) nanos = reader.int64Number() | 0;
    else reader.skip(tag & 7);
  }
  reader.expectEnd(end);
  return seconds * 1000 + Math.floor(nanos / 1_000_000);
}

/**
 * The deadline field to append to a task, encoding both seconds and nanos so the result is the
 * same whether a reader merges or replaces the earlier deadline.
 */
export function deadlineSuffix(deadlineMs: number): Uint8Array {
  const seconds = Math.floor(deadlineMs / 1000);
  const nanos = (deadlineMs - seconds * 1000) * 1_000_000;
  const timestamp = new BinaryWriter().tag(1, WireType.Varint).int64(seconds).tag(2, WireType.Varint).int32(nanos).finish();
  return new BinaryWriter().tag(TASK_DEADLINE, WireType.LengthDelimited).bytes(timestamp).finish();
}

/** The encoded tasks of a Lease response (read as raw occurrences of field 1). */
export function rawTasksOf(unknown: readonly { no: number; wireType: WireType; data: Uint8Array }[] | undefined): Uint8Array[] {
  const tasks: Uint8Array[] = [];
  for (const field of unknown ?? []) {
    if (field.no !== TASKS_FIELD || field.wireType !== WireType.LengthDelimited) continue;
    const reader = new WireReader(field.data, "LeaseResponse");
    tasks.push(reader.bytes(reader.length()));
  }
  return tasks;
}

/**
 * A Work stream message carrying encoded tasks, each followed by the client's deadline, written
 * into one buffer. Clients decode ordinary `Task`s. The tasks travel as unknown fields, which only
 * the binary codec writes: for a JSON caller use {@link decodedWorkResponse}.
 */
export function workResponseFromTasks(tasks: readonly { task: Uint8Array; clientDeadlineMs: number }[], pause = false): WorkResponse {
  const suffixes = new Map<number, Uint8Array>();
  const suffixOf = (deadlineMs: number) => {
    let suffix = suffixes.get(deadlineMs);
    if (suffix === undefined) {
      suffix = deadlineSuffix(deadlineMs);
      suffixes.set(deadlineMs, suffix);
    }
    return suffix;
  };
  let total = pause ? 2 : 0;
  for (const { task, clientDeadlineMs } of tasks) total += lengthFieldSize(task.byteLength + suffixOf(clientDeadlineMs).byteLength);
  const out = new Writer(new Uint8Array(total));
  if (pause) {
    out.tag(2, WireType.Varint);
    out.varint(1);
  }
  for (const { task, clientDeadlineMs } of tasks) {
    const suffix = suffixOf(clientDeadlineMs);
    out.tag(TASKS_FIELD, WireType.LengthDelimited);
    out.varint(task.byteLength + suffix.byteLength);
    out.bytes(task);
    out.bytes(suffix);
  }
  return encodedMessage(WorkResponseSchema, out.buf);
}

/**
 * The same Work stream message as {@link workResponseFromTasks} with every task decoded into a real
 * `Task`, for callers on a JSON codec (which drops unknown fields). Costs a decode per task, so the
 * binary path keeps the raw bytes.
 */
export function decodedWorkResponse(tasks: readonly { task: Uint8Array; clientDeadlineMs: number }[], pause = false): WorkResponse {
  return create(WorkResponseSchema, {
    pause,
    tasks: tasks.map(({ task, clientDeadlineMs }) => {
      const decoded = fromBinary(TaskSchema, task);
      decoded.deadline = timestampFromMs(clientDeadlineMs);
      return decoded;
    }),
  });
}

/**
 * A task re-addressed to another copy id: the leased bytes with a second `copy_id` appended (the
 * later occurrence of a singular field wins), so an extra copy travels without a re-encode.
 */
export function withCopyId(task: Uint8Array, copyId: string): Uint8Array {
  return new BinaryWriter().raw(task).tag(TASK_COPY_ID, WireType.LengthDelimited).string(copyId).finish();
}
