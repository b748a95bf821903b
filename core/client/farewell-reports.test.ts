import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { TaskErrorSchema, TaskResultSchema, type TaskResult } from "../../gen/disio/v1/common_pb.js";
import { DistributorServiceReportRequestSchema } from "../../gen/disio/v1/distributor_service_pb.js";
import { farewellReports, resultWireBytes } from "./farewell-reports.js";

function okResult(copyId: string, outputBytes: number): TaskResult {
  return create(TaskResultSchema, { copyId, outcome: { case: "output", value: new Uint8Array(outputBytes).fill(7) }, duration: { seconds: 12n, nanos: 345_678_901 } });
}

function wireSize(request: { results: TaskResult[]; returnedCopyIds: string[] }): number {
  return toBinary(DistributorServiceReportRequestSchema, create(DistributorServiceReportRequestSchema, { ...request, slots: 10_000 })).byteLength;
}

const copyId = (i: number) => `copy-${String(i).padStart(30, "0")}`;

describe("farewellReports", () => {
  it("puts everything in one request when it fits, returned copies and results", () => {
    const requests = farewellReports([okResult(copyId(1), 10)], [copyId(2), copyId(3)], { firstBytes: 60_000, restBytes: 1_000_000, maxEntries: 1000 });
    expect(requests).toHaveLength(1);
    expect(requests[0]?.returnedCopyIds).toEqual([copyId(2), copyId(3)]);
    expect(requests[0]?.results.map((r) => r.copyId)).toEqual([copyId(1)]);
  });

  it("keeps the first request within the keepalive budget, returned copies first", () => {
    const results = Array.from({ length: 40 }, (_, i) => okResult(copyId(i), 2_000));
    const returned = Array.from({ length: 500 }, (_, i) => copyId(1000 + i));
    const requests = farewellReports(results, returned, { firstBytes: 60_000, restBytes: 4_000_000, maxEntries: 10_000 });
    const first = requests[0]!;
    expect(first.returnedCopyIds).toHaveLength(500);
    expect(wireSize(first)).toBeLessThanOrEqual(60_000);
    expect(first.results.length).toBeGreaterThan(0);
    expect(first.results.length).toBeLessThan(40);
    expect(requests).toHaveLength(2);
    expect(requests.flatMap((r) => r.results).map((r) => r.copyId)).toEqual(results.map((r) => r.copyId));
  });

  it("never under-counts a result's wire size", () => {
    const error = create(TaskResultSchema, {
      copyId: copyId(9),
      outcome: { case: "error", value: create(TaskErrorSchema, { kind: "throw", message: "é∑".repeat(500) }) },
      duration: { seconds: 99_999n, nanos: 999_999_999 },
    });
    for (const result of [okResult(copyId(1), 0), okResult(copyId(2), 70_000), error]) {
      expect(resultWireBytes(result)).toBeGreaterThanOrEqual(toBinary(TaskResultSchema, result).byteLength + 3);
    }
  });

  it("gives an oversized result a request of its own and caps entries per request", () => {
    const requests = farewellReports([okResult(copyId(1), 100_000), okResult(copyId(2), 10)], [copyId(3), copyId(4), copyId(5)], {
      firstBytes: 60_000,
      restBytes: 60_000,
      maxEntries: 2,
    });
    expect(requests.map((r) => [r.returnedCopyIds.length, r.results.length])).toEqual([
      [2, 0],
      [1, 0],
      [0, 1],
      [0, 1],
    ]);
  });

  it("returns no request when nothing is owed", () => {
    expect(farewellReports([], [], { firstBytes: 60_000, restBytes: 60_000, maxEntries: 10 })).toEqual([]);
  });
});
