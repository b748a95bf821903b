import { describe, expect, it } from "vitest";
import { leaseOrder } from "./lease-order.js";

describe("leaseOrder", () => {
  it("orders by project priority, project deadline (none last), unit priority, then age", () => {
    const hi = { priority: 5, deadlineMs: undefined, createdAtMs: 3 };
    const soon = { priority: 0, deadlineMs: 1_000, createdAtMs: 2 };
    const late = { priority: 0, deadlineMs: 9_000, createdAtMs: 1 };
    const none = { priority: 0, deadlineMs: undefined, createdAtMs: 0 };
    const units = [
      { id: "none-1", project: none, priority: 0, seq: 1 },
      { id: "late-1", project: late, priority: 0, seq: 2 },
      { id: "late-2", project: late, priority: 9, seq: 3 },
      { id: "soon-1", project: soon, priority: 0, seq: 5 },
      { id: "soon-0", project: soon, priority: 0, seq: 4 },
      { id: "hi-1", project: hi, priority: -1, seq: 6 },
    ];
    expect(leaseOrder(units).map((u) => u.id)).toEqual(["hi-1", "soon-0", "soon-1", "late-2", "late-1", "none-1"]);
  });
});
