import { describe, expect, it } from "vitest";
import { classesFrom, validationPlan, voteHashes } from "./validator-classes.js";

describe("validationPlan", () => {
  const cases: Array<[name: string, votes: Array<{ hash: string; classHash?: string }>, want: ReturnType<typeof validationPlan>]> = [
    ["no copies", [], undefined],
    ["one output", [{ hash: "a" }], undefined],
    ["bit-identical outputs", [{ hash: "a" }, { hash: "a" }], undefined],
    ["two differing outputs", [{ hash: "a" }, { hash: "b" }], { reps: [], unclassed: ["a", "b"], pairs: [["a", "b"]] }],
    ["classed already", [{ hash: "a", classHash: "a" }, { hash: "b", classHash: "a" }], undefined],
    ["a copy of a classed hash", [{ hash: "a", classHash: "a" }, { hash: "b", classHash: "a" }, { hash: "b" }], undefined],
    [
      "a new output beside two classes",
      [{ hash: "a", classHash: "a" }, { hash: "b", classHash: "b" }, { hash: "c" }],
      { reps: ["a", "b"], unclassed: ["c"], pairs: [["a", "c"], ["b", "c"]] },
    ],
    [
      "three new outputs",
      [{ hash: "a" }, { hash: "b" }, { hash: "c" }],
      { reps: [], unclassed: ["a", "b", "c"], pairs: [["a", "b"], ["a", "c"], ["b", "c"]] },
    ],
  ];
  for (const [name, votes, want] of cases) it(name, () => expect(validationPlan(votes)).toEqual(want));
});

describe("classesFrom", () => {
  it("puts an output in the first class it agrees with, else in its own", () => {
    const plan = validationPlan([{ hash: "a" }, { hash: "b" }, { hash: "c" }])!;
    // a~b false, a~c false, b~c true: a and b are classes of their own, c joins b.
    expect([...classesFrom(plan, [false, false, true])]).toEqual([["a", "a"], ["b", "b"], ["c", "b"]]);
    // a~b true: b joins a; a~c true: c joins a (b~c is not asked of a class member).
    expect([...classesFrom(plan, [true, true, false])]).toEqual([["a", "a"], ["b", "a"], ["c", "a"]]);
  });

  it("joins a new output to a known class", () => {
    const plan = validationPlan([{ hash: "a", classHash: "a" }, { hash: "b", classHash: "b" }, { hash: "c" }])!;
    expect([...classesFrom(plan, [false, true])]).toEqual([["c", "b"]]);
  });
});

describe("voteHashes", () => {
  it("votes for the class, also for a copy whose hash was classed through another copy", () => {
    expect(voteHashes([{ hash: "a", classHash: "a" }, { hash: "b", classHash: "a" }, { hash: "b" }, { hash: "c" }])).toEqual(["a", "a", "a", "c"]);
  });
});
