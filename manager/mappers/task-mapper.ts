import { create } from "@bufbuild/protobuf";
import { durationMs, timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { TaskSchema, type Task, type TaskResult } from "../../gen/disio/v1/common_pb.js";
import type { ClientSession } from "../../gen/disio/v1/manager_service_pb.js";
import type { ClientSessionRecord, LeasedTask, ReportedResult } from "../store/store.js";
import { toProtoEncoding } from "./enums.js";

/** A leased copy → proto task. */
export function toProtoTask(t: LeasedTask): Task {
  return create(TaskSchema, {
    copyId: t.copyId,
    unitId: t.unitId,
    projectId: t.projectId,
    programHash: t.programHash,
    input: t.input,
    inputEncoding: toProtoEncoding(t.inputEncoding),
    outputEncoding: toProtoEncoding(t.outputEncoding),
    deadline: timestampFromMs(t.deadlineMs),
    priority: t.priority,
  });
}

/** A reported proto result → domain. A result with neither output nor error is an error. */
export function fromProtoTaskResult(r: TaskResult): ReportedResult {
  // Built field by field rather than with spreads: this runs for every result the manager receives.
  const result: ReportedResult = { copyId: r.copyId };
  if (r.outcome.case === "output") result.output = r.outcome.value;
  else if (r.outcome.case === "error") result.error = { message: r.outcome.value.message, kind: r.outcome.value.kind };
  else result.error = { message: "the result carried neither output nor error", kind: "crash" };
  if (r.clientId !== "") result.clientId = r.clientId;
  if (r.clientKey !== "") result.clientKey = r.clientKey;
  if (r.clientHost !== "") result.clientHost = r.clientHost;
  if (r.duration) result.durationMs = Math.max(0, Math.round(durationMs(r.duration)));
  if (r.extraOfCopyId !== "") result.extraOfCopyId = r.extraOfCopyId;
  return result;
}

/** A proto client session → domain (missing times count as zero-length stays). */
export function fromProtoClientSession(s: ClientSession): ClientSessionRecord {
  const joinMs = s.joinTime ? timestampMs(s.joinTime) : 0;
  return {
    clientId: s.clientId,
    platform: s.platform,
    joinMs,
    lastSeenMs: s.lastSeenTime ? timestampMs(s.lastSeenTime) : joinMs,
    results: s.results,
  };
}
