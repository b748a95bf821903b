import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { REJOIN_AFTER_FAILURES, reconnectPlan } from "./reconnect-plan.js";

describe("reconnectPlan", () => {
  it.each([
    [Code.Unavailable, 1, false, { rejoin: false, fatal: false }],
    [Code.Canceled, 2, false, { rejoin: false, fatal: false }],
    [Code.Unavailable, REJOIN_AFTER_FAILURES, false, { rejoin: true, fatal: false }],
    [Code.ResourceExhausted, 1, false, { rejoin: false, fatal: false }],
    [Code.ResourceExhausted, REJOIN_AFTER_FAILURES, false, { rejoin: false, fatal: false }],
    [Code.ResourceExhausted, 19, false, { rejoin: false, fatal: false }],
    [Code.Unauthenticated, 1, false, { rejoin: true, fatal: false }],
    [Code.PermissionDenied, 1, false, { rejoin: true, fatal: false }],
    [Code.FailedPrecondition, 1, true, { rejoin: false, fatal: true }],
  ])("code %s after %s failures (trust mismatch %s)", (code, failures, mismatch, expected) => {
    expect(reconnectPlan(code, failures, mismatch)).toEqual(expected);
  });
});
