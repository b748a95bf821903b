import { describe, expect, it } from "vitest";
import { compareProjectsForLease } from "./lease-order.js";

describe("compareProjectsForLease", () => {
  it("orders by project priority, then deadline (none last), then age", () => {
    const projects = {
      none: { priority: 0, deadlineMs: undefined, createdAtMs: 0 },
      late: { priority: 0, deadlineMs: 9_000, createdAtMs: 1 },
      soon: { priority: 0, deadlineMs: 1_000, createdAtMs: 2 },
      hi: { priority: 5, deadlineMs: undefined, createdAtMs: 3 },
      lateToo: { priority: 0, deadlineMs: 9_000, createdAtMs: 4 },
      low: { priority: -1, deadlineMs: 500, createdAtMs: 5 },
    };
    const sorted = Object.entries(projects).sort(([, a], [, b]) => compareProjectsForLease(a, b));
    expect(sorted.map(([name]) => name)).toEqual(["hi", "soon", "late", "lateToo", "none", "low"]);
  });
});
