import { describe, expect, it } from "vitest";
import { AckedCopies } from "./acked-copies.js";

describe("AckedCopies", () => {
  it("hands out copies once their retry window passed, oldest first, each once", () => {
    const acked = new AckedCopies();
    acked.add(["a", "b"], 100);
    acked.add([], 150);
    acked.add(["c"], 200);
    expect(acked.takeUntil(99)).toEqual([]);
    expect(acked.takeUntil(150)).toEqual(["a", "b"]);
    expect(acked.takeUntil(1_000)).toEqual(["c"]);
    expect(acked.takeUntil(1_000)).toEqual([]);
  });
});
