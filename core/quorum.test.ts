import { describe, expect, it } from "vitest";
import { decideQuorum } from "./quorum.js";

const r1 = { replication: 1, quorum: 1, maxAttempts: 3 };
const r3q2 = { replication: 3, quorum: 2, maxAttempts: 5 };

describe("decideQuorum", () => {
  it("asks for replication copies at first", () => {
    expect(decideQuorum({ okHashes: [], pending: 0, attempts: 0 }, r3q2)).toEqual({ kind: "open", need: 3 });
    expect(decideQuorum({ okHashes: [], pending: 0, attempts: 0 }, r1)).toEqual({ kind: "open", need: 1 });
  });
  it("is done when a group reaches the quorum", () => {
    expect(decideQuorum({ okHashes: ["a", "b", "a"], pending: 0, attempts: 3 }, r3q2)).toEqual({ kind: "done", hash: "a" });
    expect(decideQuorum({ okHashes: ["a", "a"], pending: 1, attempts: 3 }, r3q2)).toEqual({ kind: "done", hash: "a" });
  });
  it("waits while pending copies could still make the quorum", () => {
    expect(decideQuorum({ okHashes: ["a", "b"], pending: 1, attempts: 3 }, r3q2)).toEqual({ kind: "open", need: 0 });
  });
  it("sends more copies when all are in and disagree", () => {
    expect(decideQuorum({ okHashes: ["a", "b", "c"], pending: 0, attempts: 3 }, r3q2)).toEqual({ kind: "open", need: 1 });
  });
  it("re-sends after errors and timeouts within the budget", () => {
    expect(decideQuorum({ okHashes: [], pending: 0, attempts: 1 }, r1)).toEqual({ kind: "open", need: 1 });
    expect(decideQuorum({ okHashes: ["a"], pending: 0, attempts: 3 }, r3q2)).toEqual({ kind: "open", need: 1 });
  });
  it("fails at max_attempts", () => {
    expect(decideQuorum({ okHashes: [], pending: 0, attempts: 3 }, r1)).toEqual({ kind: "failed" });
    expect(decideQuorum({ okHashes: ["a", "b", "c", "d", "e"], pending: 0, attempts: 5 }, r3q2)).toEqual({ kind: "failed" });
  });
  it("fails early when no group can reach the quorum with what is left", () => {
    expect(decideQuorum({ okHashes: ["a", "b", "c", "d"], pending: 0, attempts: 5 }, { ...r3q2, quorum: 3 })).toEqual({ kind: "failed" });
  });
  it("caps new copies by the attempts left", () => {
    expect(decideQuorum({ okHashes: [], pending: 0, attempts: 4 }, { replication: 3, quorum: 3, maxAttempts: 5 })).toEqual({ kind: "failed" });
    expect(decideQuorum({ okHashes: ["a"], pending: 0, attempts: 3 }, { replication: 3, quorum: 3, maxAttempts: 5 })).toEqual({ kind: "open", need: 2 });
  });
});
