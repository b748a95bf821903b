import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { TaskErrorSchema, TaskResultSchema } from "../gen/disio/v1/common_pb.js";
import { ManagerServiceReportRequestSchema } from "../gen/disio/v1/manager_service_pb.js";
import { reportRequestFromStored, storedResultFromClient } from "./result-mapper.js";

describe("result mapper", () => {
  it("stamps client, unit and time, ignoring what the client claimed", () => {
    const fromClient = create(TaskResultSchema, {
      copyId: "c1",
      outcome: { case: "output", value: new Uint8Array([1, 2]) },
      clientId: "forged",
      unitId: "forged",
      clientKey: "k-forged",
      clientHost: "6.6.6.6",
      extraOfCopyId: "c-forged",
      duration: { seconds: 2n, nanos: 500 },
    });
    const stored = storedResultFromClient(fromClient, "client-a", "u1", 1_700_000_000_123, { clientKey: "k-abc", clientHost: "203.0.113.9" });
    const decoded = fromBinary(TaskResultSchema, stored.result);
    expect(decoded.clientId).toBe("client-a");
    expect([decoded.clientKey, decoded.clientHost]).toEqual(["k-abc", "203.0.113.9"]);
    const anonymous = fromBinary(TaskResultSchema, storedResultFromClient(fromClient, "client-a", "u1", 0).result);
    expect([anonymous.clientKey, anonymous.clientHost]).toEqual(["", ""]);
    expect(decoded.unitId).toBe("u1");
    expect(timestampMs(decoded.receiveTime!)).toBe(1_700_000_000_123);
    expect(decoded.outcome).toEqual({ case: "output", value: new Uint8Array([1, 2]) });
    expect(decoded.duration).toMatchObject({ seconds: 2n, nanos: 500 });
    expect(decoded.copyId).toBe("c1");
    expect(decoded.extraOfCopyId).toBe("");
    const extra = fromBinary(TaskResultSchema, storedResultFromClient(fromClient, "client-a", "u1", 0, undefined, "c0").result);
    expect([extra.extraOfCopyId, extra.copyId, extra.unitId]).toEqual(["c0", "c1", "u1"]);
  });

  it("decodes to exactly the stamped result for edge values (UTF-8 ids, negative and huge durations, time 0)", () => {
    const cases = [
      { duration: undefined, nowMs: 0, copyId: "c" },
      { duration: { seconds: -3n, nanos: -5 }, nowMs: 1, copyId: "cöpy-✓" },
      { duration: { seconds: 2n ** 40n, nanos: 999_999_999 }, nowMs: 1_700_000_000_999, copyId: "x".repeat(300) },
    ];
    for (const { duration, nowMs, copyId } of cases) {
      const fromClient = create(TaskResultSchema, { copyId, outcome: { case: "output", value: new Uint8Array(200).fill(7) }, duration });
      const identity = { clientKey: "k-ünïcode", clientHost: "2001:db8::1" };
      const decoded = fromBinary(TaskResultSchema, storedResultFromClient(fromClient, "clïent", "ünit", nowMs, identity).result);
      expect(decoded).toEqual(create(TaskResultSchema, { ...fromClient, clientId: "clïent", unitId: "ünit", receiveTime: timestampFromMs(nowMs), ...identity }));
    }
  });

  it("keeps an empty output (a set oneof) and an error outcome", () => {
    const empty = fromBinary(TaskResultSchema, storedResultFromClient(create(TaskResultSchema, { copyId: "c", outcome: { case: "output", value: new Uint8Array(0) } }), "a", "u", 0).result);
    expect(empty.outcome.case).toBe("output");
    expect(empty.duration).toBeUndefined();
    const failed = fromBinary(TaskResultSchema, storedResultFromClient(create(TaskResultSchema, { copyId: "c", outcome: { case: "error", value: create(TaskErrorSchema, { kind: "timeout", message: "m" }) } }), "a", "u", 0).result);
    expect(failed.outcome).toMatchObject({ case: "error", value: { kind: "timeout", message: "m" } });
  });

  it("builds a report the manager decodes as ordinary results", () => {
    const a = storedResultFromClient(create(TaskResultSchema, { copyId: "c1", outcome: { case: "output", value: new Uint8Array(300).fill(5) } }), "x", "u1", 1);
    const b = storedResultFromClient(
      create(TaskResultSchema, { copyId: "c2", outcome: { case: "error", value: create(TaskErrorSchema, { kind: "throw", message: "boom" }) } }),
      "y", "u2", 2,
    );
    const bytes = toBinary(ManagerServiceReportRequestSchema, reportRequestFromStored([a, b]));
    const decoded = fromBinary(ManagerServiceReportRequestSchema, bytes);
    expect(decoded.results.map((r) => [r.copyId, r.unitId, r.clientId])).toEqual([["c1", "u1", "x"], ["c2", "u2", "y"]]);
    expect(decoded.results[0]?.outcome.value).toEqual(new Uint8Array(300).fill(5));
    expect(decoded.results[1]?.outcome).toMatchObject({ case: "error", value: { kind: "throw", message: "boom" } });
  });
});
