import { create, fromBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { ClientSchema, CopySchema, ResultSchema, UnitSchema, type Client, type Copy, type Result, type Unit } from "../../gen/disio/v1/admin_service_pb.js";
import type { ClientTrustRecord, CopyRecord, ResultRecord, UnitRecord } from "../store/store.js";
import { toProtoOutcome, toProtoUnitState } from "./enums.js";

/** A stored unit (with its copies when given) → proto. */
export function toProtoUnit(u: UnitRecord & { copies?: CopyRecord[] }): Unit {
  return create(UnitSchema, {
    id: u.id,
    projectId: u.projectId,
    state: toProtoUnitState(u.state),
    input: u.input,
    priority: u.priority,
    copiesSent: u.copiesSent,
    attempts: u.attempts,
    output: u.output ?? new Uint8Array(),
    outputHash: u.outputHash ?? "",
    createTime: timestampFromMs(u.createdAtMs),
    ...(u.finishedAtMs !== undefined && { finishTime: timestampFromMs(u.finishedAtMs) }),
    error: u.state === "failed" ? (u.error ?? "") : "",
    copies: (u.copies ?? []).map(toProtoCopy),
    selfAgreement: u.selfAgreement,
    unreplicated: u.unreplicated,
  });
}

/** A stored copy → proto. */
export function toProtoCopy(c: CopyRecord): Copy {
  return create(CopySchema, {
    id: c.id,
    unitId: c.unitId,
    distributorId: c.distributorId,
    clientId: c.clientId ?? "",
    sentTime: timestampFromMs(c.sentAtMs),
    deadline: timestampFromMs(c.deadlineMs),
    ...(c.receivedAtMs !== undefined && { receiveTime: timestampFromMs(c.receivedAtMs) }),
    outcome: toProtoOutcome(c.outcome),
    outputHash: c.outputHash ?? "",
    error: c.error ?? "",
    clientKey: c.clientKey ?? "",
    clientHost: c.clientHost ?? "",
  });
}

/** A result log entry → proto (its stored fields read by fromBinary). */
export function toProtoResult(r: ResultRecord): Result {
  const result = fromBinary(ResultSchema, r.fields);
  result.unitId = r.unitId;
  result.projectId = r.projectId;
  result.cursor = r.cursor;
  result.selfAgreement = r.selfAgreement;
  result.unreplicated = r.unreplicated;
  return result;
}

/** A client identity's trust → proto. */
export function toProtoClient(c: ClientTrustRecord): Client {
  return create(ClientSchema, {
    clientKey: c.clientKey,
    distributorId: c.distributorId,
    trust: BigInt(c.trust),
    validated: BigInt(c.validated),
    wrong: BigInt(c.wrong),
    lastSeenTime: timestampFromMs(c.lastSeenMs),
  });
}
