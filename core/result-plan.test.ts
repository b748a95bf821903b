import { describe, expect, it } from "vitest";
import {
  copyEndedTransition,
  FailedClients,
  finishesAlone,
  judgeRound,
  planCanaryResult,
  planReportedResult,
  planUnitWrite,
  recheckNeed,
  type ProjectRules,
  type ReportedCopy,
  type RoundVote,
} from "./result-plan.js";
import type { UnitTransition } from "./unit-transitions.js";

const vote = (copy: number, hash: string, clientKey: string | null, extra: Partial<RoundVote<number, string>> = {}): RoundVote<number, string> => ({
  copy,
  hash,
  distributor: "d1",
  clientKey,
  voter: clientKey === null ? undefined : [clientKey === "" ? "anon:d1" : `k:${clientKey}`],
  ...extra,
});
const rules = (r: Partial<ProjectRules> = {}): ProjectRules => ({ replication: 2, quorum: 2, maxAttempts: 5, hasValidator: false, adaptiveReplication: false, ...r });
const done = (winningHash: string, extra: Partial<UnitTransition> = {}): UnitTransition => ({ state: "done", need: 0, pending: 0, attempts: 2, repeatFailures: 0, winningHash, ...extra });
const open: ReportedCopy = { was: "pending", currentRound: true, unitState: "running", unitHash: undefined, counters: { pending: 2, attempts: 2, repeatFailures: 0 } };
const never = (): never => {
  throw new Error("read although the decision does not need it");
};

describe("planUnitWrite", () => {
  it("finishes a unit: losers become invalid and every named client is judged, in copy order", () => {
    const votes = [vote(1, "a", "k1"), vote(2, "b", "k2"), vote(3, "a", ""), vote(4, "a", null)];
    const write = planUnitWrite(done("a"), () => votes, false);
    expect(write).toEqual({
      kind: "done",
      winningHash: "a",
      selfAgreement: false,
      invalid: [2],
      verdicts: [
        { distributor: "d1", trustKey: "k1", verdict: "validated" },
        { distributor: "d1", trustKey: "k2", verdict: "wrong", recheckKey: "k2" },
        { distributor: "d1", trustKey: "anon", verdict: "validated" },
      ],
    });
  });

  it("judges no one when the result was not verified by distinct volunteers", () => {
    expect(planUnitWrite(done("a", { selfAgreement: true }), () => [vote(1, "a", "k1"), vote(2, "a", "k1")], false)).toMatchObject({
      kind: "done",
      selfAgreement: true,
      verdicts: [],
    });
    // Two copies from one volunteer agreeing verify nothing even when quorum called it done.
    expect(judgeRound([vote(1, "a", "k1"), vote(2, "a", "k1")], "a", true)).toEqual([]);
    expect(judgeRound([vote(1, "a", "k1")], "a", true)).toEqual([]);
  });

  it("invalidates by class under a validator: a different output of the winning class stands", () => {
    const votes = [vote(1, "a", "k1", { classHash: "a" }), vote(2, "a2", "k2", { classHash: "a" }), vote(3, "b", "k3", { classHash: "b" })];
    const write = planUnitWrite(done("a"), () => votes, true);
    expect(write).toMatchObject({ kind: "done", invalid: [3] });
    expect(write.kind === "done" && write.verdicts.map((v) => v.verdict)).toEqual(["validated", "validated", "wrong"]);
  });

  it("holds a unit whose outputs differ for its validator, running while copies are out", () => {
    const t: UnitTransition = { state: "running", need: 1, pending: 1, attempts: 3, repeatFailures: 0 };
    expect(planUnitWrite(t, () => [vote(1, "a", "k1"), vote(2, "b", "k2")], true)).toEqual({ kind: "hold", state: "running" });
    expect(planUnitWrite({ ...t, pending: 0, state: "queued" }, () => [vote(1, "a", "k1"), vote(2, "b", "k2")], true)).toEqual({ kind: "hold", state: "queued" });
    // Outputs all compared (or identical): quorum decides as usual.
    expect(planUnitWrite(t, () => [vote(1, "a", "k1"), vote(2, "a", "k2")], true)).toEqual({ kind: "open" });
  });

  it("reads no votes for an open or failed unit without a validator", () => {
    expect(planUnitWrite({ state: "queued", need: 1, pending: 0, attempts: 1, repeatFailures: 0 }, never, false)).toEqual({ kind: "open" });
    expect(planUnitWrite({ state: "failed", need: 0, pending: 0, attempts: 5, repeatFailures: 0 }, never, false)).toEqual({ kind: "failed" });
  });
});

describe("planCanaryResult", () => {
  it("judges a canary's client by the known answer", () => {
    expect(planCanaryResult({ kind: "ok", hash: "x" }, "x", false, "d1", "k1")).toEqual({ distributor: "d1", trustKey: "k1", verdict: "validated" });
    expect(planCanaryResult({ kind: "ok", hash: "y" }, "x", false, "d1", "k1")).toEqual({ distributor: "d1", trustKey: "k1", verdict: "wrong", recheckKey: "k1" });
    expect(planCanaryResult({ kind: "ok", hash: "y" }, "x", false, "d1", "")).toEqual({ distributor: "d1", trustKey: "anon", verdict: "wrong" });
  });

  it("tells nothing of a failure, of a different output under a validator, or of a result naming no client", () => {
    expect(planCanaryResult({ kind: "error", hash: undefined }, "x", false, "d1", "k1")).toBeUndefined();
    expect(planCanaryResult({ kind: "ok", hash: "y" }, "x", true, "d1", "k1")).toBeUndefined();
    expect(planCanaryResult({ kind: "ok", hash: "x" }, "x", false, "d1", null)).toBeUndefined();
  });
});

describe("planReportedResult", () => {
  const base = {
    copy: open,
    reported: { kind: "ok" as const, hash: "a" },
    voter: ["k:k1"],
    clientKeyed: true,
    rules: rules(),
    votes: () => [] as RoundVote<number, string>[],
    repeatClient: never,
    trust: never,
    random: never,
  };

  it("waits for the quorum on a first OK result, keeping its output", () => {
    const plan = planReportedResult(base);
    expect(plan).toEqual({ kind: "open", keepOutput: true, transition: { state: "running", need: 0, pending: 1, attempts: 2, repeatFailures: 0 } });
  });

  it("finishes on agreement by distinct voters and fails a repeat client's failure without an attempt", () => {
    const agreed = planReportedResult({ ...base, votes: () => [vote(1, "a", "k2")] });
    expect(agreed.kind === "open" && agreed.transition).toMatchObject({ state: "done", winningHash: "a" });
    let asked = 0;
    const failed = planReportedResult({
      ...base,
      reported: { kind: "error", hash: undefined },
      repeatClient: () => (asked += 1) > 0,
    });
    expect(asked).toBe(1);
    expect(failed).toMatchObject({ kind: "open", keepOutput: false, transition: { attempts: 1, repeatFailures: 1, pending: 1 } });
  });

  it("records a late result only: invalid when it disagrees with a done unit, no longer pending in the current round", () => {
    const late = { ...open, unitState: "done" as const, unitHash: "a" };
    expect(planReportedResult({ ...base, copy: late, reported: { kind: "ok", hash: "b" } })).toEqual({ kind: "late", outcome: "invalid", endsPending: true });
    expect(planReportedResult({ ...base, copy: late })).toEqual({ kind: "late", outcome: "ok", endsPending: true });
    expect(planReportedResult({ ...base, copy: { ...open, currentRound: false }, reported: { kind: "ok", hash: "b" } })).toEqual({
      kind: "late",
      outcome: "ok",
      endsPending: false,
    });
  });

  it("lets a trusted client's lone result stand under adaptive replication, drawing only when it has trust", () => {
    const alone = { ...base, copy: { ...open, counters: { pending: 1, attempts: 1, repeatFailures: 0 } }, rules: rules({ adaptiveReplication: true }) };
    const plan = planReportedResult({ ...alone, trust: () => ({ trust: 1000, distributorWeight: () => 1 }), random: () => 0.999 });
    expect(plan.kind === "open" && plan.transition).toMatchObject({ state: "done", unreplicated: true, winningHash: "a" });
    const untrusted = planReportedResult({ ...alone, trust: () => ({ trust: 0, distributorWeight: never }) });
    expect(untrusted.kind === "open" && untrusted.transition.state).toBe("queued");
    // A keyless client never stands alone, and nothing is read for it.
    expect(planReportedResult({ ...alone, clientKeyed: false }).kind).toBe("open");
  });
});

describe("the common and copy-end decisions", () => {
  it("finishes a quorum-1 unit on a pending copy's OK result, and only then", () => {
    const counters = { pending: 1, attempts: 1, repeatFailures: 0 };
    const q1 = rules({ replication: 1, quorum: 1 });
    expect(finishesAlone("running", true, true, counters, { kind: "ok", hash: "a" }, q1)).toEqual({ state: "done", need: 0, pending: 0, attempts: 1, repeatFailures: 0, winningHash: "a" });
    expect(finishesAlone("running", true, true, counters, { kind: "error", hash: undefined }, q1)).toBeUndefined();
    expect(finishesAlone("running", true, false, counters, { kind: "ok", hash: "a" }, q1)).toBeUndefined();
    expect(finishesAlone("done", true, true, counters, { kind: "ok", hash: "a" }, q1)).toBeUndefined();
    expect(finishesAlone("running", true, true, counters, { kind: "ok", hash: "a" }, rules())).toBeUndefined();
  });

  it("requeues on an expired or released copy, reading votes only under quorum > 1", () => {
    const counters = { pending: 1, attempts: 1, repeatFailures: 0 };
    expect(copyEndedTransition(counters, "timeout", rules({ replication: 1, quorum: 1 }), never)).toEqual({ state: "queued", need: 1, pending: 0, attempts: 1, repeatFailures: 0 });
    expect(copyEndedTransition(counters, "released", rules({ replication: 1, quorum: 1 }), never)).toMatchObject({ need: 1, attempts: 0 });
    expect(copyEndedTransition(counters, "timeout", rules(), () => [vote(1, "a", "k1")])).toMatchObject({ state: "queued", need: 1 });
  });

  it("asks a unit accepted alone for what full quorum needs, at least one copy", () => {
    expect(recheckNeed({ pending: 0, attempts: 1, repeatFailures: 0 }, [vote(1, "a", "k1")], rules({ adaptiveReplication: true }))).toBe(1);
    expect(recheckNeed({ pending: 0, attempts: 1, repeatFailures: 0 }, [vote(1, "a", "k1")], rules({ replication: 3, quorum: 3 }))).toBe(2);
    expect(recheckNeed({ pending: 0, attempts: 5, repeatFailures: 0 }, [vote(1, "a", "k1")], rules({ maxAttempts: 1 }))).toBe(1);
  });

  it("notes each client's first failure of a unit once", () => {
    const failed = new FailedClients<number>();
    expect(failed.note(1, "A")).toBe(true);
    expect(failed.note(1, "A")).toBe(false);
    expect(failed.note(2, "A")).toBe(true);
  });
});
