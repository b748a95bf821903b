import { describe, expect, it } from "vitest";
import { StoreHealth } from "./store-health.js";

describe("StoreHealth", () => {
  it("is healthy until a failure, failing until a write succeeds, and reports each transition once", () => {
    const health = new StoreHealth();
    expect(health.status).toEqual({ healthy: true });
    expect(health.wrote(5)).toBeUndefined();

    expect(health.failed("store full: database or disk is full", 100)).toEqual({ kind: "failing", reason: "store full: database or disk is full" });
    expect(health.failed("store full: database or disk is full", 200)).toBeUndefined();
    expect(health.status).toEqual({ healthy: false, reason: "store full: database or disk is full", sinceMs: 100 });

    // Another reason is a change worth telling, but the streak keeps its start.
    expect(health.failed("store unavailable: disk I/O error", 300)).toEqual({ kind: "failing", reason: "store unavailable: disk I/O error" });
    expect(health.status).toEqual({ healthy: false, reason: "store unavailable: disk I/O error", sinceMs: 100 });

    expect(health.wrote(1_100)).toEqual({ kind: "recovered", reason: "store unavailable: disk I/O error", downMs: 1_000 });
    expect(health.status).toEqual({ healthy: true });
    expect(health.wrote(1_200)).toBeUndefined();

    expect(health.failed("store full: database or disk is full", 2_000)).toEqual({ kind: "failing", reason: "store full: database or disk is full" });
    expect(health.status).toEqual({ healthy: false, reason: "store full: database or disk is full", sinceMs: 2_000 });
  });
});
