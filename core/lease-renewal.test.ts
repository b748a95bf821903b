import { describe, expect, it } from "vitest";
import { leaseRenewal } from "./lease-renewal.js";

describe("leaseRenewal", () => {
  it("renews halfway through a lease", () => {
    expect(leaseRenewal(1_000, 61_000)).toBe(31_000);
  });
  it("keeps at least a second of margin on very short leases", () => {
    expect(leaseRenewal(1_000, 2_500)).toBe(1_500);
  });
});
