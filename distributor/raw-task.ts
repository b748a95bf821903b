/**
 * Tasks travel through the distributor as the manager encoded them: it reads the few fields it
 * needs from the bytes and never decodes or re-encodes a whole `Task`. This relies on two protobuf
 * wire rules: an embedded message is wire-identical to `bytes`, and when a singular message field
 * occurs twice the later occurrence wins (merged field by field), so appending a `deadline` to the
 * leased bytes gives the client its own lease.
 */
import { create, fromBinary } from "@bufbuild/protobuf";
import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { TaskSchema } from "../gen/disio/v1/common_pb.js";
import { WorkResponseSchema, type WorkResponse } from "../gen/disio/v1/distributor_service_pb.js";

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
  const reader = new BinaryReader(bytes);
  const header: TaskHeader = { copyId: "", unitId: "", projectId: "", priority: 0, deadlineMs: undefined };
  while (reader.pos < reader.len) {
    const [no, wireType] = reader.tag();
    if (no === TASK_COPY_ID && wireType === WireType.LengthDelimited) header.copyId = reader.string();
    else if (no === TASK_UNIT_ID && wireType === WireType.LengthDelimited) header.unitId = reader.string();
    else if (no === TASK_PROJECT_ID && wireType === WireType.LengthDelimited) header.projectId = reader.string();
    else if (no === TASK_PRIORITY && wireType === WireType.Varint) header.priority = reader.int32();
    else if (no === TASK_DEADLINE && wireType === WireType.LengthDelimited) header.deadlineMs = readTimestampMs(reader.bytes());
    else reader.skip(wireType, no);
  }
  return header;
}

function readTimestampMs(bytes: Uint8Array): number {
  const reader = new BinaryReader(bytes);
  let seconds = 0;
  let nanos = 0;
  while (reader.pos < reader.len) {
    const [no, wireType] = reader.tag();
    if (no === 1 && wireType === WireType.Varint) seconds = Number(reader.int64());
    else if (no === 2 && wireType === WireType.Varint) nanos = reader.int32();
    else reader.skip(wireType, no);
  }
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
    if (field.no === TASKS_FIELD && field.wireType === WireType.LengthDelimited) tasks.push(new BinaryReader(field.data).bytes());
  }
  return tasks;
}

/**
 * A Work stream message carrying encoded tasks, each followed by the client's deadline. Clients
 * decode ordinary `Task`s. The tasks travel as unknown fields, which only the binary codec writes:
 * for a JSON caller use {@link decodedWorkResponse}.
 */
export function workResponseFromTasks(tasks: readonly { task: Uint8Array; clientDeadlineMs: number }[], pause = false): WorkResponse {
  const response = create(WorkResponseSchema, { pause });
  const suffixes = new Map<number, Uint8Array>();
  response.$unknown = tasks.map(({ task, clientDeadlineMs }) => {
    let suffix = suffixes.get(clientDeadlineMs);
    if (suffix === undefined) {
      suffix = deadlineSuffix(clientDeadlineMs);
      suffixes.set(clientDeadlineMs, suffix);
    }
    const writer = new BinaryWriter().uint32(task.byteLength + suffix.byteLength).raw(task).raw(suffix);
    return { no: TASKS_FIELD, wireType: WireType.LengthDelimited, data: writer.finish() };
  });
  return response;
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
