/**
 * Mappers of results: a client's `TaskResult` into a stored result (stamped with client, unit and
 * receive time, encoded once), and stored results into a manager Report without decoding them again.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { TaskErrorSchema, type TaskResult } from "../gen/disio/v1/common_pb.js";
import { ManagerServiceReportRequestSchema, type ManagerServiceReportRequest } from "../gen/disio/v1/manager_service_pb.js";
import type { StoredResult } from "./store/store.js";

/** Field number of `ManagerServiceReportRequest.results`. */
const REPORT_RESULTS_FIELD = 1;

/**
 * Stamps a client's result with what the distributor vouches for (client, unit, receive time; the
 * client's own values of those fields are dropped) and encodes it as a `disio.v1.TaskResult` for
 * the store. Written field by field: this runs once per result on the hot path.
 */
export function storedResultFromClient(result: TaskResult, clientId: string, unitId: string, nowMs: number): StoredResult {
  const w = new BinaryWriter();
  w.tag(1, WireType.LengthDelimited).string(result.copyId);
  if (result.outcome.case === "output") w.tag(2, WireType.LengthDelimited).bytes(result.outcome.value);
  else if (result.outcome.case === "error") w.tag(3, WireType.LengthDelimited).bytes(toBinary(TaskErrorSchema, result.outcome.value));
  if (result.duration !== undefined) {
    w.tag(4, WireType.LengthDelimited).fork();
    if (result.duration.seconds !== 0n) w.tag(1, WireType.Varint).int64(result.duration.seconds);
    if (result.duration.nanos !== 0) w.tag(2, WireType.Varint).int32(result.duration.nanos);
    w.join();
  }
  w.tag(5, WireType.LengthDelimited).string(clientId);
  const seconds = Math.floor(nowMs / 1000);
  w.tag(6, WireType.LengthDelimited).fork().tag(1, WireType.Varint).int64(seconds).tag(2, WireType.Varint).int32((nowMs - seconds * 1000) * 1_000_000).join();
  w.tag(7, WireType.LengthDelimited).string(unitId);
  return { copyId: result.copyId, unitId, clientId, receivedAtMs: nowMs, result: w.finish() };
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
