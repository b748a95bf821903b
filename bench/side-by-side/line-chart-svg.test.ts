import { describe, expect, it } from "vitest";
import { lineChartSvg, niceMax } from "./line-chart-svg.js";

describe("niceMax", () => {
  it("rounds up to 1, 2, 2.5 or 5 times a power of ten", () => {
    expect([1, 7, 12, 21, 240, 3_100, 7_650, 200_000].map(niceMax)).toEqual([1, 10, 20, 25, 250, 5_000, 10_000, 200_000]);
  });
});

describe("lineChartSvg", () => {
  const svg = lineChartSvg(
    [
      { name: "dis.io", color: "#c00", points: [{ x: 200_000, y: 2_500 }, { x: 50_000, y: 3_000 }] },
      { name: "BullMQ <5>", color: "#00c", points: [{ x: 50_000, y: 3_300 }] },
    ],
    { title: "units/s", x: "units", y: "jobs/s" },
  );

  it("draws each series in x order on axes from 0 to the rounded maxima", () => {
    // x axis 0..200,000 over 420 px from x=70; y axis 0..5,000 over 310 px from y=350 up.
    expect(svg).toContain('<polyline fill="none" stroke="#c00" stroke-width="2" points="175,164 490,195"/>');
    expect(svg).toContain(">200,000</text>");
    expect(svg).toContain(">5,000</text>");
  });

  it("escapes names in the legend", () => {
    expect(svg).toContain(">BullMQ &lt;5&gt;</text>");
  });
});
