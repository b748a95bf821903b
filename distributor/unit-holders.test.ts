import { describe, expect, it } from "vitest";
import { UnitHolders } from "./unit-holders.js";

describe("UnitHolders", () => {
  it("tells a volunteer it was given a copy of a unit, by any of its tags", () => {
    const holders = new UnitHolders();
    holders.note("u1", "c1", ["k:a", "h:10.0.0.1"], 0);
    expect(holders.holds("u1", "c2", ["k:a"], 1)).toBe(true);
    expect(holders.holds("u1", "c2", ["k:b", "h:10.0.0.1"], 1)).toBe(true);
    expect(holders.holds("u1", "c2", ["k:b"], 1)).toBe(false);
    expect(holders.holds("u2", "c3", ["k:a"], 1)).toBe(false);
    // The same copy again (a reconnect) is no second vote.
    expect(holders.holds("u1", "c1", ["k:a"], 1)).toBe(false);
  });
  it("remembers every copy of a unit, not just the first or the last", () => {
    const holders = new UnitHolders();
    holders.note("u1", "c1", ["k:a"], 0);
    holders.note("u1", "c2", ["k:b"], 5);
    holders.note("u1", "c3", ["k:c"], 9);
    expect(["k:a", "k:b", "k:c", "k:d"].map((tag) => holders.holds("u1", "c9", [tag], 10))).toEqual([true, true, true, false]);
    // Each copy's own holder only counts through the unit's other copies.
    expect([holders.holds("u1", "c2", ["k:b"], 10), holders.holds("u1", "c2", ["k:a"], 10)]).toEqual([false, true]);
    expect(holders.size).toBe(1);
  });
  it("forgets after keepMs and beyond maxUnits, oldest first", () => {
    const holders = new UnitHolders({ keepMs: 100, maxUnits: 2 });
    holders.note("u1", "xu1", ["k:a"], 0);
    holders.note("u2", "xu2", ["k:a"], 10);
    expect(holders.holds("u1", "other", ["k:a"], 101)).toBe(false);
    holders.note("u3", "xu3", ["k:a"], 20);
    expect(holders.size).toBe(2);
    expect(holders.holds("u2", "other", ["k:a"], 20)).toBe(true);
    holders.note("u2", "xu2", ["k:b"], 30);
    holders.note("u4", "xu4", ["k:a"], 40);
    expect([holders.holds("u2", "other", ["k:b"], 40), holders.holds("u3", "other", ["k:a"], 40)]).toEqual([true, false]);
  });
});
