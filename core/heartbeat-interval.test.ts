import { describe, expect, it } from "vitest";
import { clientHeartbeatMs } from "./heartbeat-interval.js";

describe("clientHeartbeatMs", () => {
  it("keeps the configured interval while the clients' heartbeats stay under 200 a second", () => {
    expect(clientHeartbeatMs(10_000, 0)).toBe(10_000);
    expect(clientHeartbeatMs(10_000, 2_000)).toBe(10_000);
  });

  it("lengthens it so that many clients together send at most 200 a second", () => {
    expect(clientHeartbeatMs(10_000, 2_001)).toBe(10_005);
    expect(clientHeartbeatMs(10_000, 10_000)).toBe(50_000);
  });
});
