import { describe, expect, it } from "vitest";
import { takeWithinBytes } from "./byte-budget.js";

const size = (n: number) => n;

describe("takeWithinBytes", () => {
  it("takes the longest prefix within the budget and says it cut", () => {
    expect(takeWithinBytes([3, 4, 5, 1], size, 8)).toEqual({ taken: [3, 4], bytes: 7, cut: true });
    expect(takeWithinBytes([3, 4], size, 7)).toEqual({ taken: [3, 4], bytes: 7, cut: false });
  });

  it("takes a first item larger than the budget unless told not to", () => {
    expect(takeWithinBytes([10, 1], size, 5)).toEqual({ taken: [10], bytes: 10, cut: true });
    expect(takeWithinBytes([10, 1], size, 5, false)).toEqual({ taken: [], bytes: 0, cut: true });
  });

  it("stops reading an iterator at the item that does not fit", () => {
    const read: number[] = [];
    function* rows() {
      for (const n of [2, 2, 9, 1, 1]) {
        read.push(n);
        yield n;
      }
    }
    expect(takeWithinBytes(rows(), size, 5).taken).toEqual([2, 2]);
    expect(read).toEqual([2, 2, 9]);
  });
});
