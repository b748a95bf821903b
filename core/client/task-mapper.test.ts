import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { TaskResultSchema } from "../../gen/disio/v1/common_pb.js";
import { toProtoTaskResult } from "./task-mapper.js";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("toProtoTaskResult", () => {
  it("makes the message create makes", () => {
    const ok = toProtoTaskResult({ copyId: "c1", outcome: { ok: true, output: bytes("1") }, durationMs: 1234.5678 });
    expect(ok).toEqual(create(TaskResultSchema, { copyId: "c1", outcome: { case: "output", value: bytes("1") }, duration: { seconds: 1n, nanos: 234_567_800 } }));
    const failed = toProtoTaskResult({ copyId: "c2", outcome: { ok: false, kind: "throw", message: "x".repeat(5000) }, durationMs: -1 });
    expect(failed).toEqual(create(TaskResultSchema, { copyId: "c2", outcome: { case: "error", value: { kind: "throw", message: "x".repeat(4096) } }, duration: {} }));
  });
});
