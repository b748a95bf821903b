import { describe, expect, it } from "vitest";
import { decideQuorum, ROUND_COPY_CEILING_FACTOR } from "./quorum.js";

const r1 = { replication: 1, quorum: 1, maxAttempts: 3 };
const r3q2 = { replication: 3, quorum: 2, maxAttempts: 5 };

describe("decideQuorum", () => {
  it("asks for replication copies at first", () => {
    expect(decideQuorum({ okHashes: [], pending: 0, attempts: 0, repeatFailures: 0 }, r3q2)).toEqual({ kind: "open", need: 3 });
    expect(decideQuorum({ okHashes: [], pending: 0, attempts: 0, repeatFailures: 0 }, r1)).toEqual({ kind: "open", need: 1 });
  });
  it("is done when a group reaches the quorum", () => {
    expect(decideQuorum({ okHashes: ["a", "b", "a"], pending: 0, attempts: 3, repeatFailures: 0 }, r3q2)).toEqual({ kind: "done", hash: "a" });
    expect(decideQuorum({ okHashes: ["a", "a"], pending: 1, attempts: 3, repeatFailures: 0 }, r3q2)).toEqual({ kind: "done", hash: "a" });
  });
  it("waits while pending copies could still make the quorum", () => {
    expect(decideQuorum({ okHashes: ["a", "b"], pending: 1, attempts: 3, repeatFailures: 0 }, r3q2)).toEqual({ kind: "open", need: 0 });
  });
  it("sends more copies when all are in and disagree", () => {
    expect(decideQuorum({ okHashes: ["a", "b", "c"], pending: 0, attempts: 3, repeatFailures: 0 }, r3q2)).toEqual({ kind: "open", need: 1 });
  });
  it("re-sends after errors and timeouts within the budget", () => {
    expect(decideQuorum({ okHashes: [], pending: 0, attempts: 1, repeatFailures: 0 }, r1)).toEqual({ kind: "open", need: 1 });
    expect(decideQuorum({ okHashes: ["a"], pending: 0, attempts: 3, repeatFailures: 0 }, r3q2)).toEqual({ kind: "open", need: 1 });
  });
  it("fails at max_attempts", () => {
    expect(decideQuorum({ okHashes: [], pending: 0, attempts: 3, repeatFailures: 0 }, r1)).toEqual({ kind: "failed" });
    expect(decideQuorum({ okHashes: ["a", "b", "c", "d", "e"], pending: 0, attempts: 5, repeatFailures: 0 }, r3q2)).toEqual({ kind: "failed" });
  });
  it("fails early when no group can reach the quorum with what is left", () => {
    expect(decideQuorum({ okHashes: ["a", "b", "c", "d"], pending: 0, attempts: 5, repeatFailures: 0 }, { ...r3q2, quorum: 3 })).toEqual({ kind: "failed" });
  });
  it("caps new copies by the attempts left", () => {
    expect(decideQuorum({ okHashes: [], pending: 0, attempts: 4, repeatFailures: 0 }, { replication: 3, quorum: 3, maxAttempts: 5 })).toEqual({ kind: "failed" });
    expect(decideQuorum({ okHashes: ["a"], pending: 0, attempts: 3, repeatFailures: 0 }, { replication: 3, quorum: 3, maxAttempts: 5 })).toEqual({ kind: "open", need: 2 });
  });
  it("keeps sending copies after repeat failures, which use no attempt, up to the round's copy ceiling", () => {
    expect(ROUND_COPY_CEILING_FACTOR).toBe(3);
    const cases = [
      { attempts: 1, repeatFailures: 0, want: { kind: "open", need: 1 } },
      { attempts: 1, repeatFailures: 7, want: { kind: "open", need: 1 } },
      { attempts: 1, repeatFailures: 8, want: { kind: "failed" } },
      { attempts: 2, repeatFailures: 7, want: { kind: "failed" } },
      { attempts: 3, repeatFailures: 0, want: { kind: "failed" } },
    ];
    for (const { attempts, repeatFailures, want } of cases) {
      expect(decideQuorum({ okHashes: [], pending: 0, attempts, repeatFailures }, r1), `${attempts}+${repeatFailures}`).toEqual(want);
    }
  });
  it("caps new copies by the copies the round may still send", () => {
    expect(decideQuorum({ okHashes: [], pending: 0, attempts: 0, repeatFailures: 14 }, r3q2)).toEqual({ kind: "failed" });
    expect(decideQuorum({ okHashes: [], pending: 0, attempts: 1, repeatFailures: 12 }, r3q2)).toEqual({ kind: "open", need: 2 });
    expect(decideQuorum({ okHashes: ["a"], pending: 1, attempts: 3, repeatFailures: 12 }, r3q2)).toEqual({ kind: "open", need: 0 });
  });
});

describe("decideQuorum across volunteers", () => {
  const q2 = { replication: 2, quorum: 2, maxAttempts: 5 };
  const A = ["k:a"];
  const B = ["k:b"];
  const cases: Array<{ name: string; okHashes: string[]; okVoters: Array<string[] | undefined>; pending: number; attempts: number; want: unknown }> = [
    { name: "two volunteers agree", okHashes: ["h", "h"], okVoters: [A, B], pending: 0, attempts: 2, want: { kind: "done", hash: "h" } },
    { name: "one volunteer twice, a copy still out: wait for it", okHashes: ["h", "h"], okVoters: [A, A], pending: 1, attempts: 3, want: { kind: "open", need: 0 } },
    { name: "one volunteer twice, nothing out: self-agreement", okHashes: ["h", "h"], okVoters: [A, A], pending: 0, attempts: 2, want: { kind: "done", hash: "h", selfAgreement: true } },
    { name: "a liar twice beside an honest one: the honest group wins with a third", okHashes: ["w", "w", "h", "h"], okVoters: [A, A, B, ["k:c"]], pending: 0, attempts: 4, want: { kind: "done", hash: "h" } },
    { name: "a liar twice against one honest output: more copies, not self-agreement", okHashes: ["w", "w", "h"], okVoters: [A, A, B], pending: 0, attempts: 3, want: { kind: "open", need: 1 } },
    { name: "a liar twice, an honest one pending", okHashes: ["w", "w"], okVoters: [A, A], pending: 1, attempts: 3, want: { kind: "open", need: 0 } },
    { name: "disagreement between two volunteers asks for another copy", okHashes: ["w", "h"], okVoters: [A, B], pending: 0, attempts: 2, want: { kind: "open", need: 1 } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(decideQuorum({ okHashes: c.okHashes, okVoters: c.okVoters, pending: c.pending, attempts: c.attempts, repeatFailures: 0 }, q2)).toEqual(c.want);
    });
  }
});
