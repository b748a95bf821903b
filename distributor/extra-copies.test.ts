import { describe, expect, it } from "vitest";
import { ExtraCopies } from "./extra-copies.js";
import type { GivenCopy } from "./store/store.js";

const copy = (n: number, bytes = 10): GivenCopy => ({ copyId: `c${n}`, unitId: `u${n}`, projectId: "p1", task: new Uint8Array(bytes), clientDeadlineMs: 0 });
const units = (copies: readonly GivenCopy[]) => copies.map((c) => c.unitId);

describe("ExtraCopies", () => {
  it("forgets the oldest units past its byte budget", () => {
    const extras = new ExtraCopies({ perUnit: 1, maxBytes: 25 });
    extras.remember([copy(1), copy(2), copy(3)], ["s:a"]);
    expect(extras.size).toBe(2);
    expect(units(extras.take("b", ["s:b"], 10, 0, new Set()))).toEqual(["u2", "u3"]);
  });

  it("skips paused projects, and cancels the extras of dropped units", () => {
    const extras = new ExtraCopies({ perUnit: 2, maxBytes: 1e6 });
    extras.remember([copy(1), { ...copy(2), projectId: "paused" }], ["s:a"]);
    const given = extras.take("b", ["s:b"], 10, 0, new Set(["paused"]));
    expect(units(given)).toEqual(["u1"]);
    expect(extras.drop(["c1"])).toEqual([given[0]!.copyId]);
    expect(extras.inHands("b", [given[0]!.copyId]).size).toBe(0);
    expect(extras.take("c", ["s:c"], 10, 0, new Set())).toEqual([expect.objectContaining({ unitId: "u2" })]);
  });

  it("counts an extra's client going away as out of hands: the unit is preferred again", () => {
    const extras = new ExtraCopies({ perUnit: 3, maxBytes: 1e6 });
    extras.remember([copy(1), copy(2)], ["s:a"]);
    extras.leftHands(["c1", "c2"]);
    const [first] = extras.take("b", ["s:b"], 1, 0, new Set());
    expect(first!.unitId).toBe("u1");
    // u1 now has one copy in hands, u2 none.
    expect(units(extras.take("c", ["s:c"], 1, 0, new Set()))).toEqual(["u2"]);
    extras.release([first!.copyId]);
    expect(units(extras.take("d", ["s:d"], 1, 0, new Set()))).toEqual(["u1"]);
  });
});
