import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { LeaseResponseSchema } from "../../gen/disio/v1/manager_service_pb.js";
import type { LeasedTask } from "../store/store.js";
import { encodeLeaseResponse } from "./lease-response-encoder.js";
import { toProtoTask } from "./task-mapper.js";

const bytes = (text: string) => new TextEncoder().encode(text);

function task(overrides: Partial<LeasedTask>): LeasedTask {
  return {
    copyId: "c1",
    unitId: "u1",
    projectId: "p1",
    programHash: "ab".repeat(32),
    input: bytes('{"i":1}'),
    inputEncoding: "json",
    outputEncoding: "json",
    deadlineMs: 1_795_599_937_743,
    priority: 0,
    ...overrides,
  };
}

/** What connect sends for `{ tasks }` when the tasks go through protobuf-es reflection. */
function reflected(tasks: LeasedTask[]): Uint8Array {
  return toBinary(LeaseResponseSchema, create(LeaseResponseSchema, { tasks: tasks.map(toProtoTask) }));
}

describe("encodeLeaseResponse", () => {
  const cases: Array<[string, LeasedTask[]]> = [
    ["no tasks", []],
    ["one task", [task({})]],
    ["zero values omitted: empty input, priority 0, deadline 0", [task({ input: new Uint8Array(), deadlineMs: 0 })]],
    ["a whole-second deadline (no nanos)", [task({ deadlineMs: 1_700_000_000_000 })]],
    ["deadline under a second (no seconds)", [task({ deadlineMs: 999 })]],
    ["positive and negative priorities", [task({ priority: 7 }), task({ copyId: "c2", priority: -3 }), task({ copyId: "c3", priority: 2_147_483_647 }), task({ copyId: "c4", priority: -2_147_483_648 })]],
    ["bytes encoding and a large binary input", [task({ inputEncoding: "bytes", outputEncoding: "bytes", input: new Uint8Array(70_000).map((_, i) => i % 251) })]],
    ["non-ASCII strings", [task({ projectId: "pé", unitId: "u€", copyId: "c😀" })]],
    [
      "several projects and deadlines interleaved",
      [
        task({ copyId: "c1", unitId: "u1" }),
        task({ copyId: "c2", unitId: "u2", projectId: "p2", programHash: "cd".repeat(32), deadlineMs: 5_000 }),
        task({ copyId: "c3", unitId: "u3" }),
        task({ copyId: "czzzzzzzzz", unitId: "uzzzzzzzzzz", deadlineMs: 8_999_999_999_999 }),
      ],
    ],
  ];
  for (const [label, tasks] of cases) {
    it(`writes the same bytes as reflection: ${label}`, () => {
      const encoded = toBinary(LeaseResponseSchema, encodeLeaseResponse(tasks));
      expect(Buffer.from(encoded).toString("hex")).toBe(Buffer.from(reflected(tasks)).toString("hex"));
    });
  }

  it("decodes to the leased tasks", () => {
    const tasks = [task({ priority: -1 }), task({ copyId: "c2", unitId: "u2", input: bytes("[1,2]") })];
    const decoded = fromBinary(LeaseResponseSchema, toBinary(LeaseResponseSchema, encodeLeaseResponse(tasks)));
    expect(decoded.tasks.map((t) => [t.copyId, t.unitId, t.priority, new TextDecoder().decode(t.input), t.deadline?.seconds])).toEqual([
      ["c1", "u1", -1, '{"i":1}', 1_795_599_937n],
      ["c2", "u2", 0, "[1,2]", 1_795_599_937n],
    ]);
  });
});
