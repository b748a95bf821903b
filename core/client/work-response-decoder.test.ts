import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { EmptySchema, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { Encoding, TaskSchema, type Task } from "../../gen/disio/v1/common_pb.js";
import { WorkResponseSchema, type WorkResponse } from "../../gen/disio/v1/distributor_service_pb.js";
import { decodeWorkResponse } from "./work-response-decoder.js";

const bytes = (text: string) => new TextEncoder().encode(text);

function task(overrides: Partial<Omit<Task, "$typeName" | "$unknown">>): Task {
  return create(TaskSchema, {
    copyId: "c1",
    unitId: "u1",
    projectId: "p1",
    programHash: "ab".repeat(32),
    input: bytes('{"i":1}'),
    inputEncoding: Encoding.JSON,
    outputEncoding: Encoding.BYTES,
    deadline: timestampFromMs(1_795_599_937_743),
    priority: 3,
    ...overrides,
  });
}

/** What the binary client's raw call sees: the message decoded with the empty schema. */
const unknownFields = (wire: Uint8Array) => fromBinary(EmptySchema, wire).$unknown;

const cases: Array<[string, Partial<Omit<WorkResponse, "$typeName">>]> = [
  ["no tasks", {}],
  ["one task", { tasks: [task({})] }],
  ["a task with every field at its zero value", { tasks: [create(TaskSchema)] }],
  ["a negative priority and deadline (ten-byte varints)", { tasks: [task({ priority: -7, deadline: { $typeName: "google.protobuf.Timestamp", seconds: -62_135_596_800n, nanos: 5 } })] }],
  ["an unknown enum value", { tasks: [task({ inputEncoding: 42 as Encoding })] }],
  ["large binary input", { tasks: [task({ input: new Uint8Array(20_000).map((_, i) => i % 251) })] }],
  ["non-ASCII and long strings", { tasks: [task({ copyId: "cé", unitId: "u€", projectId: "😀", programHash: "x".repeat(100) + "ß" })] }],
  ["pause, in hand and cancelled copies", { pause: true, inHand: 4_294_967_295, cancelledCopyIds: ["c1", "c2é"] }],
  ["in hand zero (present)", { inHand: 0, tasks: [task({})] }],
  ["a batch of varied tasks", { tasks: Array.from({ length: 300 }, (_, i) => task({ copyId: `c${i.toString(36)}`, priority: i % 5, input: bytes(JSON.stringify({ i })), deadline: timestampFromMs(1_700_000_000_000 + i * 777) })) }],
];

describe("decodeWorkResponse", () => {
  for (const [label, fields] of cases) {
    it(`reads a Work message as fromBinary does: ${label}`, () => {
      const wire = toBinary(WorkResponseSchema, create(WorkResponseSchema, fields));
      expect(decodeWorkResponse(unknownFields(wire))).toEqual(fromBinary(WorkResponseSchema, wire));
    });
  }

  it("merges a deadline appended after the task's own, as the distributor sends it", () => {
    const inner = toBinary(TaskSchema, task({}));
    const later = new BinaryWriter().tag(8, WireType.LengthDelimited).fork().tag(1, WireType.Varint).int64(1_800_000_000n).join().finish();
    const wire = new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(new Uint8Array([...inner, ...later])).finish();
    const decoded = decodeWorkResponse(unknownFields(wire));
    expect(decoded).toEqual(fromBinary(WorkResponseSchema, wire));
    // Seconds from the later occurrence, nanos kept from the earlier one (a merge, not a replace).
    expect(decoded.tasks[0]!.deadline).toEqual({ $typeName: "google.protobuf.Timestamp", seconds: 1_800_000_000n, nanos: 743_000_000 });
  });

  it("skips fields it does not know, in the message and in its tasks", () => {
    const inner = new Uint8Array([...toBinary(TaskSchema, task({})), ...new BinaryWriter().tag(15, WireType.LengthDelimited).string("new").tag(14, WireType.Varint).uint32(9).finish()]);
    const wire = new BinaryWriter().tag(1, WireType.LengthDelimited).bytes(inner).tag(9, WireType.Bit32).fixed32(1).finish();
    expect(decodeWorkResponse(unknownFields(wire)).tasks).toEqual([task({})]);
  });

  it("throws on a truncated task", () => {
    const wire = toBinary(WorkResponseSchema, create(WorkResponseSchema, { tasks: [task({})] }));
    const truncated = wire.subarray(0, wire.length - 3);
    expect(() => decodeWorkResponse([{ no: 1, wireType: WireType.LengthDelimited, data: truncated.subarray(1) }])).toThrow(/malformed WorkResponse/);
  });
});
