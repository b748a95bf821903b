import type { UnknownField } from "@bufbuild/protobuf";
import type { ManagerServiceReportRequest } from "../../gen/disio/v1/manager_service_pb.js";
import { readTaskResult } from "../../wire/task-result-decoder.js";
import { LEN, WireReader } from "../../wire/wire-reader.js";

/**
 * Reads a distributor's Report from the unknown fields of a request decoded with an empty schema
 * (the binary route of ManagerService.Report): the same message fromBinary makes (a differential
 * test checks), results read by hand ({@link readTaskResult}). Fields this version does not know
 * are skipped.
 *
 * Why: protobuf-es's reflective decode of Reports was ~10 % of the manager's busy CPU.
 */
export function decodeManagerReportRequest(fields: readonly UnknownField[] | undefined): ManagerServiceReportRequest {
  const request: ManagerServiceReportRequest = { $typeName: "disio.v1.ManagerServiceReportRequest", results: [] };
  for (const field of fields ?? []) {
    if (field.no !== 1 || field.wireType !== LEN) continue;
    const reader = new WireReader(field.data, "TaskResult");
    request.results.push(readTaskResult(reader, reader.length()));
  }
  return request;
}
