/**
 * Mappers of results: a client's `TaskResult` into a stored result (stamped with client, unit and
 * receive time, encoded once), and stored results into a manager Report without decoding them again.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { TaskResultSchema, type TaskResult } from "../gen/disio/v1/common_pb.js";
import { ManagerServiceReportRequestSchema, type ManagerServiceReportRequest } from "../gen/disio/v1/manager_service_pb.js";
import type { StoredResult } from "./store/store.js";

/** Field number of `ManagerServiceReportRequest.results`. */
const REPORT_RESULTS_FIELD = 1;

/** Stamps a client's result with what the distributor vouches for and encodes it for the store. */
export function storedResultFromClient(result: TaskResult, clientId: string, unitId: string, nowMs: number): StoredResult {
  const stamped = create(TaskResultSchema, {
    copyId: result.copyId,
    outcome: result.outcome,
    duration: result.duration,
    clientId,
    unitId,
    receiveTime: timestampFromMs(nowMs),
  });
  return { copyId: result.copyId, unitId, clientId, receivedAtMs: nowMs, result: toBinary(TaskResultSchema, stamped) };
}

/**
 * A manager Report carrying stored results. The encoded results are attached as raw occurrences of
 * the `results` field (protobuf unknown fields are written out verbatim), so the manager decodes
 * ordinary `TaskResult`s while the distributor never decodes and re-encodes them.
 */
export function reportRequestFromStored(results: readonly StoredResult[]): ManagerServiceReportRequest {
  const request = create(ManagerServiceReportRequestSchema);
  request.$unknown = results.map((r) => ({
    no: REPORT_RESULTS_FIELD,
    wireType: WireType.LengthDelimited,
    data: new BinaryWriter().bytes(r.result).finish(),
  }));
  return request;
}
