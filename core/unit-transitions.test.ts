import { describe, expect, it } from "vitest";
import { unitAfterCopyEvent, unitAfterSettingsChange, type CopyEvent, type UnitTally, type UnitTransition } from "./unit-transitions.js";

const r1 = { replication: 1, quorum: 1, maxAttempts: 3 };
const r3q2 = { replication: 3, quorum: 2, maxAttempts: 5 };

describe("unitAfterCopyEvent", () => {
  it("finishes a replication-1 unit on its first OK result", () => {
    expect(unitAfterCopyEvent({ pending: 1, attempts: 1, repeatFailures: 0, okHashes: [] }, { type: "result", outcome: "ok", hash: "h", wasPending: true }, r1))
      .toEqual({ state: "done", need: 0, pending: 0, attempts: 1, repeatFailures: 0, winningHash: "h" });
  });
  it("requeues on timeout, counting the attempt, and fails at max_attempts", () => {
    expect(unitAfterCopyEvent({ pending: 1, attempts: 1, repeatFailures: 0, okHashes: [] }, { type: "timeout" }, r1))
      .toEqual({ state: "queued", need: 1, pending: 0, attempts: 1, repeatFailures: 0 });
    expect(unitAfterCopyEvent({ pending: 1, attempts: 3, repeatFailures: 0, okHashes: [] }, { type: "timeout" }, r1))
      .toEqual({ state: "failed", need: 0, pending: 0, attempts: 3, repeatFailures: 0 });
  });
  it("does not count released copies", () => {
    expect(unitAfterCopyEvent({ pending: 1, attempts: 3, repeatFailures: 0, okHashes: [] }, { type: "released" }, r1))
      .toEqual({ state: "queued", need: 1, pending: 0, attempts: 2, repeatFailures: 0 });
  });
  it("keeps running while other copies are out", () => {
    expect(unitAfterCopyEvent({ pending: 3, attempts: 3, repeatFailures: 0, okHashes: [] }, { type: "result", outcome: "ok", hash: "a", wasPending: true }, r3q2))
      .toEqual({ state: "running", need: 0, pending: 2, attempts: 3, repeatFailures: 0 });
  });
  it("sends another copy after a disagreement with nothing pending", () => {
    expect(unitAfterCopyEvent({ pending: 1, attempts: 3, repeatFailures: 0, okHashes: ["a", "b"] }, { type: "result", outcome: "invalid", wasPending: true }, r3q2))
      .toEqual({ state: "queued", need: 1, pending: 0, attempts: 3, repeatFailures: 0 });
  });
  it("accepts a late result after a timeout without changing pending", () => {
    expect(unitAfterCopyEvent({ pending: 1, attempts: 3, repeatFailures: 0, okHashes: ["a"] }, { type: "result", outcome: "ok", hash: "a", wasPending: false }, r3q2))
      .toEqual({ state: "done", need: 0, pending: 1, attempts: 3, repeatFailures: 0, winningHash: "a" });
  });
});

describe("unitAfterCopyEvent with repeat clients", () => {
  const r1m2 = { replication: 1, quorum: 1, maxAttempts: 2 };
  const error = (repeatClient: boolean): CopyEvent => ({ type: "result", outcome: "error", wasPending: true, repeatClient });
  const cases: Array<{ name: string; tally: UnitTally; event: CopyEvent; want: UnitTransition }> = [
    {
      name: "a first failure of a client uses an attempt",
      tally: { pending: 1, attempts: 1, repeatFailures: 0, okHashes: [] },
      event: error(false),
      want: { state: "queued", need: 1, pending: 0, attempts: 1, repeatFailures: 0 },
    },
    {
      name: "a repeat client's error gives its attempt back",
      tally: { pending: 1, attempts: 2, repeatFailures: 0, okHashes: [] },
      event: error(true),
      want: { state: "queued", need: 1, pending: 0, attempts: 1, repeatFailures: 1 },
    },
    {
      name: "a repeat client's invalid output gives its attempt back",
      tally: { pending: 1, attempts: 2, repeatFailures: 3, okHashes: [] },
      event: { type: "result", outcome: "invalid", wasPending: true, repeatClient: true },
      want: { state: "queued", need: 1, pending: 0, attempts: 1, repeatFailures: 4 },
    },
    {
      name: "a second distinct failing client exhausts max_attempts",
      tally: { pending: 1, attempts: 2, repeatFailures: 4, okHashes: [] },
      event: error(false),
      want: { state: "failed", need: 0, pending: 0, attempts: 2, repeatFailures: 4 },
    },
    {
      name: "the round's copy ceiling (max_attempts × 3) fails a unit one client keeps failing",
      tally: { pending: 1, attempts: 2, repeatFailures: 4, okHashes: [] },
      event: error(true),
      want: { state: "failed", need: 0, pending: 0, attempts: 1, repeatFailures: 5 },
    },
    {
      name: "repeatClient does not change an OK result",
      tally: { pending: 1, attempts: 2, repeatFailures: 1, okHashes: [] },
      event: { type: "result", outcome: "ok", hash: "h", wasPending: true, repeatClient: true },
      want: { state: "done", need: 0, pending: 0, attempts: 2, repeatFailures: 1, winningHash: "h" },
    },
    {
      name: "a repeat client's late error after a timeout turns the timeout's attempt into a repeat failure",
      tally: { pending: 0, attempts: 2, repeatFailures: 0, okHashes: [] },
      event: { type: "result", outcome: "error", wasPending: false, repeatClient: true },
      want: { state: "queued", need: 1, pending: 0, attempts: 1, repeatFailures: 1 },
    },
    {
      name: "a repeat client's error for a released copy adds a repeat failure, not an attempt",
      tally: { pending: 0, attempts: 1, repeatFailures: 0, okHashes: [] },
      event: { type: "result-after-release", outcome: "error", repeatClient: true },
      want: { state: "queued", need: 1, pending: 0, attempts: 1, repeatFailures: 1 },
    },
    {
      name: "a new client's error for a released copy is an attempt again",
      tally: { pending: 0, attempts: 1, repeatFailures: 0, okHashes: [] },
      event: { type: "result-after-release", outcome: "error", repeatClient: false },
      want: { state: "failed", need: 0, pending: 0, attempts: 2, repeatFailures: 0 },
    },
  ];
  for (const { name, tally, event, want } of cases) {
    it(name, () => {
      expect(unitAfterCopyEvent(tally, event, r1m2)).toEqual(want);
    });
  }
});

describe("unitAfterSettingsChange", () => {
  it("asks for more copies when replication grows", () => {
    expect(unitAfterSettingsChange({ pending: 1, attempts: 1, repeatFailures: 0, okHashes: [] }, { replication: 3, quorum: 2, maxAttempts: 5 }))
      .toEqual({ state: "running", need: 2, pending: 1, attempts: 1, repeatFailures: 0 });
  });
});

describe("unitAfterCopyEvent with voters", () => {
  const q2 = { replication: 2, quorum: 2, maxAttempts: 4 };
  it("finishes verified when a second volunteer agrees", () => {
    const t = unitAfterCopyEvent({ pending: 1, attempts: 2, repeatFailures: 0, okHashes: ["h"], okVoters: [["k:a"]] }, { type: "result", outcome: "ok", hash: "h", wasPending: true, voter: ["k:b"] }, q2);
    expect(t).toEqual({ state: "done", need: 0, pending: 0, attempts: 2, repeatFailures: 0, winningHash: "h" });
  });
  it("marks agreement of one volunteer with itself as self-agreement", () => {
    const t = unitAfterCopyEvent({ pending: 1, attempts: 2, repeatFailures: 0, okHashes: ["h"], okVoters: [["k:a"]] }, { type: "result", outcome: "ok", hash: "h", wasPending: true, voter: ["k:a"] }, q2);
    expect(t).toEqual({ state: "done", need: 0, pending: 0, attempts: 2, repeatFailures: 0, winningHash: "h", selfAgreement: true });
  });
  it("counts copies recorded without voters as distinct", () => {
    const t = unitAfterCopyEvent({ pending: 1, attempts: 2, repeatFailures: 0, okHashes: ["h"] }, { type: "result", outcome: "ok", hash: "h", wasPending: true, voter: ["k:a"] }, q2);
    expect(t.selfAgreement).toBeUndefined();
    expect(t.state).toBe("done");
  });
});

describe("unitAfterCopyEvent under adaptive replication", () => {
  const adaptive = { replication: 2, quorum: 2, maxAttempts: 4, adaptiveReplication: true };
  const fresh = { pending: 0, attempts: 0, repeatFailures: 0, okHashes: [] };

  it("sends one copy first", () => {
    expect(unitAfterSettingsChange(fresh, adaptive)).toMatchObject({ state: "queued", need: 1 });
    expect(unitAfterSettingsChange(fresh, { ...adaptive, adaptiveReplication: false })).toMatchObject({ state: "queued", need: 2 });
    expect(unitAfterSettingsChange(fresh, { ...adaptive, quorum: 1 })).toMatchObject({ need: 2 });
  });

  it("accepts the first OK result alone when its client is trusted, else asks for the other copy", () => {
    const leased = { pending: 1, attempts: 1, repeatFailures: 0, okHashes: [] };
    const ok = { type: "result" as const, outcome: "ok" as const, hash: "h", wasPending: true };
    expect(unitAfterCopyEvent(leased, { ...ok, acceptAlone: true }, adaptive)).toEqual({
      state: "done",
      need: 0,
      pending: 0,
      attempts: 1,
      repeatFailures: 0,
      winningHash: "h",
      unreplicated: true,
    });
    expect(unitAfterCopyEvent(leased, ok, adaptive)).toMatchObject({ state: "queued", need: 1 });
    // Never alone beside another OK copy or a copy still out.
    expect(unitAfterCopyEvent({ ...leased, pending: 2, attempts: 2 }, { ...ok, acceptAlone: true }, adaptive)).toMatchObject({ state: "running", need: 0 });
    expect(unitAfterCopyEvent({ ...leased, okHashes: ["g"], attempts: 2 }, { ...ok, acceptAlone: true }, adaptive)).toMatchObject({ state: "queued", need: 1 });
  });
});
