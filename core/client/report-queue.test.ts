import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { TaskResultSchema } from "../../gen/disio/v1/common_pb.js";
import { ReportQueue, type ReportSettlement } from "./report-queue.js";

const policy = { maxBatch: 3, maxBatchBytes: 100, maxDelayMs: 10, concurrency: 1, backoff: { initialMs: 5, maxMs: 5, multiplier: 1, jitter: 0 } };
const result = (copyId: string) => create(TaskResultSchema, { copyId });

function harness(fail: (call: number) => ConnectError | undefined = () => undefined) {
  const calls: { key: string; copyIds: string[] }[] = [];
  const settlements: ReportSettlement<string>[] = [];
  const queue = new ReportQueue<string>(policy, {
    send: async (key, results) => {
      calls.push({ key, copyIds: results.map((r) => r.copyId) });
      const error = fail(calls.length);
      if (error) throw error;
      return { accepted: results.length, duplicates: 0, refusedCopyIds: [] };
    },
    settled: (settlement) => settlements.push(settlement),
    now: () => performance.now(),
  });
  return { queue, calls, settlements };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 40));

describe("ReportQueue", () => {
  it("sends a full batch at once and the rest after the delay, one session per call", async () => {
    const { queue, calls } = harness();
    for (const id of ["a", "b", "c", "d"]) queue.add("s1", result(id), true, 1);
    queue.add("s2", result("e"), true, 1);
    expect(calls).toEqual([{ key: "s1", copyIds: ["a", "b", "c"] }]);
    await settle();
    await settle();
    expect(calls).toEqual([
      { key: "s1", copyIds: ["a", "b", "c"] },
      { key: "s1", copyIds: ["d"] },
      { key: "s2", copyIds: ["e"] },
    ]);
    expect(queue.idle).toBe(true);
  });

  it("lists the results of a session on the wire until their call settles (a farewell sends them again)", async () => {
    let release!: () => void;
    const settlements: ReportSettlement<string>[] = [];
    const queue = new ReportQueue<string>(policy, {
      send: async (_key, results) => {
        await new Promise<void>((resolve) => (release = resolve));
        return { accepted: results.length, duplicates: 0, refusedCopyIds: [] };
      },
      settled: (settlement) => settlements.push(settlement),
      now: () => performance.now(),
    });
    for (const id of ["a", "b", "c"]) queue.add("s1", result(id), true, 1);
    queue.add("s1", result("d"), true, 1);
    expect(queue.onTheWire("s1").map((entry) => entry.result.copyId)).toEqual(["a", "b", "c"]);
    expect(queue.onTheWire("s2")).toEqual([]);
    expect(queue.takePending("s1").map((entry) => entry.result.copyId)).toEqual(["d"]);
    release();
    await settle();
    expect(queue.onTheWire("s1")).toEqual([]);
    expect(settlements.map((s) => s.batch.length)).toEqual([3]);
  });

  it("caps a batch by output bytes but always sends at least one result", async () => {
    const { queue, calls } = harness();
    queue.add("s", result("big"), true, 500);
    queue.add("s", result("x"), true, 60);
    queue.add("s", result("y"), true, 60);
    queue.drain();
    await settle();
    expect(calls.map((call) => call.copyIds)).toEqual([["big"], ["x"], ["y"]]);
  });

  it.each([
    ["the distributor unreachable", new ConnectError("down", Code.Unavailable)],
    ["the distributor's store full", new ConnectError("store full: database or disk is full", Code.ResourceExhausted)],
  ])("retries a batch after a transient failure: %s", async (_what, failure) => {
    const { queue, calls, settlements } = harness((call) => (call === 1 ? failure : undefined));
    for (const id of ["a", "b", "c"]) queue.add("s", result(id), true, 1);
    await settle();
    expect(calls.map((call) => call.copyIds)).toEqual([["a", "b", "c"], ["a", "b", "c"]]);
    expect(settlements.map((s) => s.kind)).toEqual(["failed", "acknowledged"]);
  });

  it("drops a batch the distributor refuses for good", async () => {
    const { queue, calls, settlements } = harness(() => new ConnectError("not yours", Code.PermissionDenied));
    for (const id of ["a", "b", "c"]) queue.add("s", result(id), true, 1);
    await settle();
    expect(calls).toHaveLength(1);
    expect(settlements[0]).toMatchObject({ kind: "failed", dropped: true });
    expect(queue.idle).toBe(true);
  });

  it("sends waiting results of re-handed copies under the session that holds them now", async () => {
    const { queue, calls } = harness();
    for (const id of ["a", "b"]) queue.add("old", result(id), true, 1);
    queue.rekey(new Set(["b", "zz"]), "new");
    await settle();
    await settle();
    expect(calls).toEqual([
      { key: "old", copyIds: ["a"] },
      { key: "new", copyIds: ["b"] },
    ]);
  });

  it("hands the waiting results of one session to a farewell and keeps the others", async () => {
    const { queue, calls } = harness();
    queue.add("now", result("b"), true, 1);
    queue.add("old", result("a"), true, 1);
    const taken = queue.takePending("now");
    expect(taken.map((entry) => [entry.key, entry.result.copyId])).toEqual([["now", "b"]]);
    await settle();
    expect(calls).toEqual([{ key: "old", copyIds: ["a"] }]);
    expect(queue.idle).toBe(true);
  });
});
