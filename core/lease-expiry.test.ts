import { describe, expect, it } from "vitest";
import { isLeaseExpired, isProjectPastDeadline, renewedDeadline } from "./lease-expiry.js";

describe("isLeaseExpired", () => {
  it("expires pending copies at or past their deadline only", () => {
    expect(isLeaseExpired({ outcome: "pending", deadlineMs: 100 }, 100)).toBe(true);
    expect(isLeaseExpired({ outcome: "pending", deadlineMs: 101 }, 100)).toBe(false);
    expect(isLeaseExpired({ outcome: "ok", deadlineMs: 1 }, 100)).toBe(false);
  });
});

describe("isProjectPastDeadline", () => {
  it("expires active and paused projects past their deadline", () => {
    expect(isProjectPastDeadline({ state: "active", deadlineMs: 50 }, 100)).toBe(true);
    expect(isProjectPastDeadline({ state: "paused", deadlineMs: 50 }, 100)).toBe(true);
    expect(isProjectPastDeadline({ state: "done", deadlineMs: 50 }, 100)).toBe(false);
    expect(isProjectPastDeadline({ state: "active", deadlineMs: undefined }, 100)).toBe(false);
    expect(isProjectPastDeadline({ state: "active", deadlineMs: 150 }, 100)).toBe(false);
  });
  it("renews from now", () => expect(renewedDeadline(1_000, 60_000)).toBe(61_000));
});
