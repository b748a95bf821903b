import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { resolveDistributorOptions, type DistributorOptions } from "./distributor-options.js";

const base: DistributorOptions = { managerUrls: ["http://127.0.0.1:7100/"], token: "t", dataDir: "/tmp/d", log: pino({ level: "silent" }) };

describe("resolveDistributorOptions", () => {
  it("fills defaults", () => {
    const o = resolveDistributorOptions(base);
    expect(o).toMatchObject({ host: "127.0.0.1", port: 7200, capacity: 20_000, highWatermark: 10_000, lowWatermark: 5_000, leaseBatch: 5_000, reportBatch: 5_000 });
    expect(o.managerUrls).toEqual(["http://127.0.0.1:7100"]);
    expect(o.publicUrl).toBeUndefined();
    expect(o).toMatchObject({ store: "sqlite", redisPrefix: "disio:", redisWaitAof: false, outageExtraCopies: 2 });
    expect(resolveDistributorOptions({ ...base, outageExtraCopies: 0 }).outageExtraCopies).toBe(0);
  });

  it("takes a Redis store by URL", () => {
    expect(resolveDistributorOptions({ ...base, store: "redis://127.0.0.1:6379/3", redisPrefix: "pool-a:", redisWaitAof: true })).toMatchObject({
      store: "redis://127.0.0.1:6379/3",
      redisPrefix: "pool-a:",
      redisWaitAof: true,
    });
  });

  const bad: [string, Partial<DistributorOptions>, RegExp][] = [
    ["no manager", { managerUrls: [] }, /managerUrls/],
    ["manager not a URL", { managerUrls: ["localhost:7100"] }, /managerUrls/],
    ["no token", { token: "" }, /token/],
    ["no data dir", { dataDir: "" }, /dataDir/],
    ["port out of range", { port: 70_000 }, /port/],
    ["high above capacity", { capacity: 10, highWatermark: 20 }, /highWatermark/],
    ["low above high", { highWatermark: 10, lowWatermark: 20 }, /lowWatermark/],
    ["zero batch", { leaseBatch: 0 }, /leaseBatch/],
    ["fractional slots", { workBatch: 1.5 }, /workBatch/],
    ["negative lease", { taskLeaseMs: -1 }, /taskLeaseMs/],
    ["unknown store", { store: "postgres://db" }, /unsupported backend "postgres"/],
    ["negative extra copies", { outageExtraCopies: -1 }, /outageExtraCopies/],
    ["fractional extra copies", { outageExtraCopies: 0.5 }, /outageExtraCopies/],
    ["empty redis prefix", { store: "redis://127.0.0.1:6379", redisPrefix: "" }, /redisPrefix/],
  ];
  for (const [name, patch, message] of bad) {
    it(`rejects ${name}`, () => expect(() => resolveDistributorOptions({ ...base, ...patch })).toThrow(message));
  }
});
