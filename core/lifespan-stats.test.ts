import { describe, expect, it } from "vitest";
import { lifespanStats } from "./lifespan-stats.js";
import { distributorStatus } from "./distributor-status.js";
import { etaMs, throughputPerSecond } from "./throughput.js";

describe("lifespanStats", () => {
  it("summarises lifespans", () => {
    expect(lifespanStats([])).toMatchObject({ clients: 0, modeMs: 0, meanMs: 0, medianMs: 0, p90Ms: 0 });
    expect(lifespanStats([]).buckets.map((b) => b.clients)).toEqual(new Array(15).fill(0));
    const s = lifespanStats([10_000, 20_000, 20_000, 20_000, 40_000, 100_000, 200_000, 300_000, 400_000, 2_000_000]);
    expect(s.clients).toBe(10);
    expect(s.meanMs).toBe(311_000);
    expect(s.medianMs).toBe(40_000);
    expect(s.p90Ms).toBe(400_000);
    expect(s.modeMs).toBe(22_500);
  });

  it("counts every lifespan in its bucket: lower bound inclusive, upper exclusive, the last one open", () => {
    const s = lifespanStats([0, 999, 1_000, 4_999, 5_000, 86_399_999, 86_400_000, 90_000_000]);
    const counts = new Map(s.buckets.map((b) => [b.belowMs, b.clients]));
    expect(s.buckets).toHaveLength(15);
    expect(s.buckets[0]).toEqual({ belowMs: 1_000, clients: 2 });
    expect(counts.get(5_000)).toBe(2);
    expect(counts.get(15_000)).toBe(1);
    expect(counts.get(86_400_000)).toBe(1);
    expect(s.buckets.at(-1)).toEqual({ belowMs: undefined, clients: 2 });
    expect(s.buckets.reduce((sum, b) => sum + b.clients, 0)).toBe(8);
  });
});

describe("distributorStatus", () => {
  const base = { revoked: false, draining: false, registered: true, lastSeenMs: 1_000 };
  it("goes offline after three missed heartbeats", () => {
    expect(distributorStatus(base, 1_000 + 15_000, 5_000)).toBe("online");
    expect(distributorStatus(base, 1_000 + 15_001, 5_000)).toBe("offline");
    expect(distributorStatus({ ...base, registered: false }, 1_000, 5_000)).toBe("new");
    expect(distributorStatus({ ...base, draining: true }, 1_000, 5_000)).toBe("draining");
    expect(distributorStatus({ ...base, draining: true, revoked: true }, 1_000, 5_000)).toBe("revoked");
  });
});

describe("throughputPerSecond", () => {
  it("measures growth over the last minute", () => {
    const samples = [
      { atMs: 0, count: 0 },
      { atMs: 50_000, count: 100 },
      { atMs: 100_000, count: 1100 },
    ];
    expect(throughputPerSecond(samples, 100_000)).toBe(20);
    expect(throughputPerSecond(samples.slice(0, 1), 100_000)).toBe(0);
    expect(etaMs(200, 20)).toBe(10_000);
    expect(etaMs(200, 0)).toBeUndefined();
  });
});

describe("lifespanStats buckets", () => {
  it("counts clients per bucket, the open last bucket holding stays past a day", () => {
    const { buckets } = lifespanStats([500, 900, 4_000, 90_000_000]);
    expect(buckets).toHaveLength(15);
    expect(buckets.slice(0, 3)).toEqual([
      { belowMs: 1_000, clients: 2 },
      { belowMs: 5_000, clients: 1 },
      { belowMs: 15_000, clients: 0 },
    ]);
    expect(buckets[14]).toEqual({ belowMs: undefined, clients: 1 });
  });
});
