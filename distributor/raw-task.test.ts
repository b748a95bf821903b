import { create, fromBinary, fromJson, toBinary, toJson } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { Encoding, TaskSchema } from "../gen/disio/v1/common_pb.js";
import { WorkResponseSchema } from "../gen/disio/v1/distributor_service_pb.js";
import { LeaseResponseSchema } from "../gen/disio/v1/manager_service_pb.js";
import { EmptySchema } from "@bufbuild/protobuf/wkt";
import { decodedWorkResponse, rawTasksOf, scanTask, workResponseFromTasks } from "./raw-task.js";

const task = create(TaskSchema, {
  copyId: "c1",
  unitId: "u1",
  projectId: "p1",
  programHash: "ab".repeat(32),
  input: new Uint8Array([1, 2, 3]),
  inputEncoding: Encoding.BYTES,
  deadline: timestampFromMs(1_700_000_000_500),
  priority: -3,
});
const bytes = toBinary(TaskSchema, task);

describe("raw tasks", () => {
  it("reads the header of an encoded task", () => {
    expect(scanTask(bytes)).toEqual({ copyId: "c1", unitId: "u1", projectId: "p1", priority: -3, deadlineMs: 1_700_000_000_500 });
  });

  it("throws on malformed bytes", () => {
    expect(() => scanTask(new Uint8Array([0x0a, 0x05, 0x61]))).toThrow();
  });

  it("reads the tasks of a Lease response decoded with an empty schema", () => {
    const response = toBinary(LeaseResponseSchema, create(LeaseResponseSchema, { tasks: [task, { ...task, copyId: "c2" }] }));
    const raw = rawTasksOf(fromBinary(EmptySchema, response).$unknown);
    expect(raw.map((t) => scanTask(t).copyId)).toEqual(["c1", "c2"]);
    expect(raw[0]).toEqual(bytes);
  });

  it("sends tasks to clients unchanged but for the client's deadline", () => {
    for (const deadlineMs of [1_800_000_000_000, 1_800_000_000_123]) {
      const wire = toBinary(WorkResponseSchema, workResponseFromTasks([{ task: bytes, clientDeadlineMs: deadlineMs }]));
      const decoded = fromBinary(WorkResponseSchema, wire);
      expect(decoded.pause).toBe(false);
      expect(decoded.tasks).toHaveLength(1);
      const got = decoded.tasks[0]!;
      expect(timestampMs(got.deadline!)).toBe(deadlineMs);
      expect({ ...got, deadline: undefined }).toEqual({ ...task, deadline: undefined });
    }
  });

  it("keeps the pause flag of a stream message", () => {
    expect(fromBinary(WorkResponseSchema, toBinary(WorkResponseSchema, workResponseFromTasks([], true)))).toMatchObject({ pause: true, tasks: [] });
  });

  it("gives JSON callers the same tasks as real fields as binary callers get raw", () => {
    const tasks = [
      { task: bytes, clientDeadlineMs: 1_800_000_000_123 },
      { task: toBinary(TaskSchema, { ...task, copyId: "c2" }), clientDeadlineMs: 1_800_000_000_000 },
    ];
    const raw = fromBinary(WorkResponseSchema, toBinary(WorkResponseSchema, workResponseFromTasks(tasks, true)));
    const decoded = decodedWorkResponse(tasks, true);
    expect(decoded.$unknown).toBeUndefined();
    expect(decoded.tasks.map((t) => t.copyId)).toEqual(["c1", "c2"]);
    const json = fromJson(WorkResponseSchema, toJson(WorkResponseSchema, decoded));
    expect(json).toEqual(raw);
  });
});
