import { describe, expect, it } from "vitest";
import { unitAfterCopyEvent, unitAfterSettingsChange } from "./unit-transitions.js";

const r1 = { replication: 1, quorum: 1, maxAttempts: 3 };
const r3q2 = { replication: 3, quorum: 2, maxAttempts: 5 };

describe("unitAfterCopyEvent", () => {
  it("finishes a replication-1 unit on its first OK result", () => {
    expect(unitAfterCopyEvent({ pending: 1, attempts: 1, okHashes: [] }, { type: "result", outcome: "ok", hash: "h", wasPending: true }, r1))
      .toEqual({ state: "done", need: 0, pending: 0, attempts: 1, winningHash: "h" });
  });
  it("requeues on timeout, counting the attempt, and fails at max_attempts", () => {
    expect(unitAfterCopyEvent({ pending: 1, attempts: 1, okHashes: [] }, { type: "timeout" }, r1))
      .toEqual({ state: "queued", need: 1, pending: 0, attempts: 1 });
    expect(unitAfterCopyEvent({ pending: 1, attempts: 3, okHashes: [] }, { type: "timeout" }, r1))
      .toEqual({ state: "failed", need: 0, pending: 0, attempts: 3 });
  });
  it("does not count released copies", () => {
    expect(unitAfterCopyEvent({ pending: 1, attempts: 3, okHashes: [] }, { type: "released" }, r1))
      .toEqual({ state: "queued", need: 1, pending: 0, attempts: 2 });
  });
  it("keeps running while other copies are out", () => {
    expect(unitAfterCopyEvent({ pending: 3, attempts: 3, okHashes: [] }, { type: "result", outcome: "ok", hash: "a", wasPending: true }, r3q2))
      .toEqual({ state: "running", need: 0, pending: 2, attempts: 3 });
  });
  it("sends another copy after a disagreement with nothing pending", () => {
    expect(unitAfterCopyEvent({ pending: 1, attempts: 3, okHashes: ["a", "b"] }, { type: "result", outcome: "invalid", wasPending: true }, r3q2))
      .toEqual({ state: "queued", need: 1, pending: 0, attempts: 3 });
  });
  it("accepts a late result after a timeout without changing pending", () => {
    expect(unitAfterCopyEvent({ pending: 1, attempts: 3, okHashes: ["a"] }, { type: "result", outcome: "ok", hash: "a", wasPending: false }, r3q2))
      .toEqual({ state: "done", need: 0, pending: 1, attempts: 3, winningHash: "a" });
  });
});

describe("unitAfterSettingsChange", () => {
  it("asks for more copies when replication grows", () => {
    expect(unitAfterSettingsChange({ pending: 1, attempts: 1, okHashes: [] }, { replication: 3, quorum: 2, maxAttempts: 5 }))
      .toEqual({ state: "running", need: 2, pending: 1, attempts: 1 });
  });
});
