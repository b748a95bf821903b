import { create } from "@bufbuild/protobuf";
import { durationFromMs, durationMs, timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import {
  ProjectSchema,
  UnitCountsSchema,
  type CreateProjectRequest,
  type Project,
  type UnitCounts as ProtoUnitCounts,
  type UpdateProjectRequest,
} from "../../gen/disio/v1/admin_service_pb.js";
import { ProjectState } from "../../gen/disio/v1/common_pb.js";
import { InvalidArgumentError } from "../../core/errors.js";
import type { ProjectSettingsInput, ProjectSettingsUpdate } from "../../core/project-settings.js";
import type { ProjectRecord, UnitCounts } from "../store/store.js";
import { fromProtoEncoding, toProtoEncoding, toProtoProjectState } from "./enums.js";

/** A stored project → proto. */
export function toProtoProject(p: ProjectRecord): Project {
  return create(ProjectSchema, {
    id: p.id,
    name: p.name,
    state: toProtoProjectState(p.state),
    programHash: p.programHash,
    inputEncoding: toProtoEncoding(p.inputEncoding),
    outputEncoding: toProtoEncoding(p.outputEncoding),
    replication: p.replication,
    quorum: p.quorum,
    maxAttempts: p.maxAttempts,
    leaseTimeout: durationFromMs(p.leaseTimeoutMs),
    ...(p.deadlineMs !== undefined && { deadline: timestampFromMs(p.deadlineMs) }),
    priority: p.priority,
    createTime: timestampFromMs(p.createdAtMs),
    updateTime: timestampFromMs(p.updatedAtMs),
    counts: toProtoCounts(p.counts),
    hasValidator: p.hasValidator,
    adaptiveReplication: p.adaptiveReplication,
    canaryRate: p.canaryRate,
  });
}

/** Unit counts → proto. */
export function toProtoCounts(c: UnitCounts): ProtoUnitCounts {
  return create(UnitCountsSchema, {
    queued: BigInt(c.queued),
    running: BigInt(c.running),
    done: BigInt(c.done),
    failed: BigInt(c.failed),
    expired: BigInt(c.expired),
    cancelled: BigInt(c.cancelled),
    total: BigInt(c.total),
  });
}

/** CreateProjectRequest → settings input (validated later by core/project-settings). */
export function fromCreateProjectRequest(req: CreateProjectRequest): ProjectSettingsInput {
  return {
    name: req.name,
    inputEncoding: fromProtoEncoding(req.inputEncoding, "input_encoding"),
    outputEncoding: fromProtoEncoding(req.outputEncoding, "output_encoding"),
    replication: req.replication,
    quorum: req.quorum,
    maxAttempts: req.maxAttempts,
    leaseTimeoutMs: req.leaseTimeout ? durationToMs(req.leaseTimeout, "lease_timeout") : undefined,
    deadlineMs: req.deadline ? timestampMs(req.deadline) : undefined,
    priority: req.priority,
    adaptiveReplication: req.adaptiveReplication,
    canaryRate: req.canaryRate,
  };
}

/** UpdateProjectRequest → a settings update (undefined when it changes no setting) and a state change. */
export function fromUpdateProjectRequest(req: UpdateProjectRequest): {
  update: ProjectSettingsUpdate | undefined;
  state: "active" | "paused" | undefined;
} {
  let state: "active" | "paused" | undefined;
  if (req.state === ProjectState.ACTIVE) state = "active";
  else if (req.state === ProjectState.PAUSED) state = "paused";
  else if (req.state !== ProjectState.UNSPECIFIED) throw new InvalidArgumentError("state", "only PAUSED or ACTIVE may be set");
  if (req.clearDeadline && req.deadline) throw new InvalidArgumentError("deadline", "set either deadline or clear_deadline");
  const update: ProjectSettingsUpdate = {
    ...(req.name !== undefined && { name: req.name }),
    ...(req.priority !== undefined && { priority: req.priority }),
    ...(req.replication !== undefined && { replication: req.replication }),
    ...(req.quorum !== undefined && { quorum: req.quorum }),
    ...(req.maxAttempts !== undefined && { maxAttempts: req.maxAttempts }),
    ...(req.leaseTimeout && { leaseTimeoutMs: durationToMs(req.leaseTimeout, "lease_timeout") }),
    ...(req.deadline && { deadlineMs: timestampMs(req.deadline) }),
    ...(req.clearDeadline && { clearDeadline: true }),
    ...(req.adaptiveReplication !== undefined && { adaptiveReplication: req.adaptiveReplication }),
    ...(req.canaryRate !== undefined && { canaryRate: req.canaryRate }),
  };
  return { update: Object.keys(update).length > 0 ? update : undefined, state };
}

function durationToMs(d: Parameters<typeof durationMs>[0], field: string): number {
  const ms = durationMs(d);
  if (!Number.isFinite(ms)) throw new InvalidArgumentError(field, "not a valid duration");
  return ms;
}
