import { describe, expect, it } from "vitest";
import { RateWindow } from "./rate-window.js";

describe("RateWindow", () => {
  it("counts events per second over the window, and over the time since the first while younger", () => {
    const rate = new RateWindow(10_000);
    expect(rate.perSecond(0)).toBe(0);
    for (let t = 0; t < 2_000; t += 100) rate.add(t);
    expect(rate.perSecond(2_000)).toBe(10);
    for (let t = 2_000; t < 20_000; t += 50) rate.add(t);
    expect(rate.perSecond(20_000)).toBe(20);
    expect(rate.perSecond(40_000)).toBe(0);
  });
});
