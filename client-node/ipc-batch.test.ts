import { deserialize, serialize } from "node:v8";
import { describe, expect, it } from "vitest";
import type { UnitResult } from "../core/client/unit-processor.js";
import { packResults, packTasks, unpackResults, unpackTasks } from "./ipc-batch.js";
import type { RunnerTask } from "./ipc-messages.js";

const bytes = (text: string) => new TextEncoder().encode(text);
/** What crossing the IPC channel does to a value ("advanced" serialization is v8's). */
const overIpc = <T>(value: T): T => deserialize(serialize(value)) as T;
/** Plain values to compare (typed-array views compare by content). */
const plain = (value: unknown) =>
  JSON.parse(
    JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
      const original = this[key];
      return original instanceof Uint8Array ? [...original] : v;
    }),
  ) as unknown;

describe("packTasks / unpackTasks", () => {
  const shared = Buffer.from("xx{\"i\":1}yy[2]zz");
  const tasks: RunnerTask[] = [
    { copyId: "c1", programHash: "ab".repeat(32), input: shared.subarray(2, 9), inputEncoding: "json", outputEncoding: "json", isolate: false },
    { copyId: "c2€", programHash: "cd".repeat(32), input: new Uint8Array(), inputEncoding: "bytes", outputEncoding: "json", isolate: true },
    { copyId: "c3", programHash: "ab".repeat(32), input: shared.subarray(11, 14), inputEncoding: "json", outputEncoding: "bytes", isolate: false },
    { copyId: "c4", programHash: "ef".repeat(32), input: new Uint8Array(70_000).map((_, i) => i % 251), inputEncoding: "bytes", outputEncoding: "bytes", isolate: true },
  ];

  it("gives back every task across the channel, in order, with its own input bytes only", () => {
    const unpacked = unpackTasks(overIpc(packTasks(tasks)));
    expect(plain(unpacked)).toEqual(plain(tasks));
    expect(unpacked.map((t) => t.input.length)).toEqual([7, 0, 3, 70_000]);
    expect(new TextDecoder().decode(unpacked[2]!.input)).toBe("[2]");
  });

  it("sends each program hash once", () => {
    expect(packTasks(tasks).programHashes).toEqual(["ab".repeat(32), "cd".repeat(32), "ef".repeat(32)]);
  });

  it("handles an empty batch", () => {
    expect(unpackTasks(overIpc(packTasks([])))).toEqual([]);
  });
});

describe("packResults / unpackResults", () => {
  const results: UnitResult[] = [
    { copyId: "c1", outcome: { ok: true, output: bytes('{"i":1}') }, durationMs: 0.0125 },
    { copyId: "c2", outcome: { ok: false, kind: "throw", message: "boom é" }, durationMs: 3 },
    { copyId: "c3", outcome: { ok: true, output: new Uint8Array() }, durationMs: 0 },
    { copyId: "c4", outcome: { ok: false, kind: "timeout", message: "" }, durationMs: 1_000 },
    { copyId: "c5", outcome: { ok: true, output: bytes("[1,2,3]") }, durationMs: 7.5 },
  ];

  it("gives back every result across the channel, outputs, errors and durations alike", () => {
    const unpacked = unpackResults(overIpc(packResults(results)));
    expect(plain(unpacked)).toEqual(plain(results));
    expect(unpacked.map((r) => (r.outcome.ok ? new TextDecoder().decode(r.outcome.output) : r.outcome.kind))).toEqual(['{"i":1}', "throw", "", "timeout", "[1,2,3]"]);
  });

  it("handles an empty batch", () => {
    expect(unpackResults(overIpc(packResults([])))).toEqual([]);
  });
});
