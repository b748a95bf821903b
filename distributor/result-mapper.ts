/**
 * Mappers of results: a client's `TaskResult` into a stored result (stamped with client, unit and
 * receive time, encoded once into an exactly sized buffer), and stored results into a manager Report without decoding them again.
 */
import { toBinary } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import { TaskErrorSchema, type TaskResult } from "../gen/disio/v1/common_pb.js";
import { ManagerServiceReportRequestSchema, type ManagerServiceReportRequest } from "../gen/disio/v1/manager_service_pb.js";
import type { ClientIdentity } from "./client-identity.js";
import type { StoredResult } from "./store/store.js";
import { encodedMessage } from "../wire/encoded-message.js";
import { int32Size, int64Size, lengthFieldSize, stringFieldSize, varintSize, Writer } from "../wire/sized-writer.js";

/** Field number of `ManagerServiceReportRequest.results`. */
const REPORT_RESULTS_FIELD = 1;

/**
 * Stamps a client's result with what the distributor vouches for (client, unit, receive time, the
 * client's identity; the client's own values of those fields are dropped) and encodes it as a `disio.v1.TaskResult` for
 * the store. `extraOfCopyId` marks the result of an extra copy (see extra-copies.ts) with the leased
 * copy it was derived from. Written field by field: this runs once per result on the hot path.
 */
export function storedResultFromClient(
  result: TaskResult,
  clientId: string,
  unitId: string,
  nowMs: number,
  identity?: ClientIdentity,
  extraOfCopyId = "",
): StoredResult {
  const clientKey = identity?.clientKey ?? "";
  const clientHost = identity?.clientHost ?? "";
  const outcome =
    result.outcome.case === "output" ? result.outcome.value : result.outcome.case === "error" ? toBinary(TaskErrorSchema, result.outcome.value) : undefined;
  const durationSeconds = Number(result.duration?.seconds ?? 0n);
  const durationNanos = result.duration?.nanos ?? 0;
  const durationSize = (durationSeconds !== 0 ? 1 + int64Size(durationSeconds) : 0) + (durationNanos !== 0 ? 1 + int32Size(durationNanos) : 0);
  const seconds = Math.floor(nowMs / 1000);
  const nanos = (nowMs - seconds * 1000) * 1_000_000;
  const receivedSize = 1 + int64Size(seconds) + 1 + int32Size(nanos);
  const size =
    stringFieldSize(result.copyId) +
    (outcome !== undefined ? 1 + varintSize(outcome.length) + outcome.length : 0) +
    (result.duration !== undefined ? 1 + varintSize(durationSize) + durationSize : 0) +
    stringFieldSize(clientId) +
    1 + varintSize(receivedSize) + receivedSize +
    stringFieldSize(unitId) +
    stringFieldSize(clientKey) +
    stringFieldSize(clientHost) +
    stringFieldSize(extraOfCopyId);
  const w = new Writer(Buffer.allocUnsafe(size));
  w.stringField(1, result.copyId);
  if (outcome !== undefined) w.bytesField(result.outcome.case === "output" ? 2 : 3, outcome);
  if (result.duration !== undefined) {
    w.tag(4, WireType.LengthDelimited);
    w.varint(durationSize);
    if (durationSeconds !== 0) w.int64Field(1, durationSeconds);
    if (durationNanos !== 0) w.int32Field(2, durationNanos);
  }
  w.stringField(5, clientId);
  w.tag(6, WireType.LengthDelimited);
  w.varint(receivedSize);
  w.int64Field(1, seconds);
  w.int32Field(2, nanos);
  w.stringField(7, unitId);
  w.stringField(8, clientKey);
  w.stringField(9, clientHost);
  w.stringField(10, extraOfCopyId);
  return { copyId: result.copyId, unitId, clientId, receivedAtMs: nowMs, result: new Uint8Array(w.buf.buffer, w.buf.byteOffset, size) };
}

/**
 * A manager Report carrying stored results, written into one buffer: each encoded result becomes
 * an occurrence of the `results` field, carried as unknown fields (written out verbatim), so the
 * manager decodes ordinary `TaskResult`s while the distributor never decodes and re-encodes them.
 */
export function reportRequestFromStored(results: readonly StoredResult[]): ManagerServiceReportRequest {
  let total = 0;
  for (const r of results) total += lengthFieldSize(r.result.byteLength);
  const out = new Writer(new Uint8Array(total));
  for (const r of results) out.bytesField(REPORT_RESULTS_FIELD, r.result);
  return encodedMessage(ManagerServiceReportRequestSchema, out.buf);
}
