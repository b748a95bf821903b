/**
 * Mappers between the DistributorService messages and the unit-processor protocol: proto messages
 * stop here, processors see only {@link RunnableTask} and {@link UnitResult}.
 */
import type { Duration } from "@bufbuild/protobuf/wkt";
import { Encoding, type Task, type TaskResult } from "../../gen/disio/v1/common_pb.js";
import type { RunnableTask, UnitEncoding, UnitResult } from "./unit-processor.js";

/** Longest error message sent in a result (common.proto: truncated to 4 KiB). */
export const MAX_ERROR_MESSAGE_CHARS = 4096;

/** Reads a proto `Encoding`; unspecified means JSON. */
export function unitEncoding(encoding: Encoding): UnitEncoding {
  return encoding === Encoding.BYTES ? "bytes" : "json";
}

/** A task whose program verified, ready for a processor. */
export function toRunnableTask(task: Task, programSource: string, maxRunTimeMs: number | undefined): RunnableTask {
  return {
    copyId: task.copyId,
    projectId: task.projectId,
    programHash: task.programHash,
    programSource,
    input: task.input,
    inputEncoding: unitEncoding(task.inputEncoding),
    outputEncoding: unitEncoding(task.outputEncoding),
    maxRunTimeMs,
  };
}

/** An error result for a task that never ran because its program could not be loaded or verified. */
export function programErrorResult(copyId: string, message: string): UnitResult {
  return { copyId, outcome: { ok: false, kind: "program", message }, durationMs: 0 };
}

/**
 * A processor's result as a `TaskResult` for Report (error messages truncated to 4 KiB). Built as
 * the plain object `create` would make, without its reflection (a test checks equality): one per
 * unit on the worker's hot path.
 */
export function toProtoTaskResult(result: UnitResult): TaskResult {
  const outcome = result.outcome;
  return {
    $typeName: "disio.v1.TaskResult",
    copyId: result.copyId,
    outcome: outcome.ok
      ? { case: "output", value: outcome.output }
      : {
          case: "error",
          value: { $typeName: "disio.v1.TaskError", message: outcome.message.slice(0, MAX_ERROR_MESSAGE_CHARS), kind: outcome.kind },
        },
    duration: durationOf(result.durationMs),
    clientId: "",
    receiveTime: undefined,
    unitId: "",
    clientKey: "",
    clientHost: "",
    extraOfCopyId: "",
  };
}

/** A non-negative duration with sub-millisecond precision (integer nanos, as the wire needs). */
function durationOf(ms: number): Duration {
  const safe = Number.isFinite(ms) && ms > 0 ? ms : 0;
  const seconds = Math.floor(safe / 1000);
  const nanos = Math.min(999_999_999, Math.round((safe - seconds * 1000) * 1_000_000));
  return { $typeName: "google.protobuf.Duration", seconds: BigInt(seconds), nanos };
}
