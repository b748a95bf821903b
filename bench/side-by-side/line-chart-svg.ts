/** One line of a chart: its name, colour and points. */
export interface ChartSeries {
  name: string;
  color: string;
  points: { x: number; y: number }[];
}

/** Labels of a chart. */
export interface ChartLabels {
  title: string;
  x: string;
  y: string;
}

const WIDTH = 640;
const HEIGHT = 400;
const MARGIN = { left: 70, right: 150, top: 40, bottom: 50 };

/**
 * A line chart as a standalone SVG document: linear axes from 0 to a rounded maximum, five ticks
 * each, one polyline with dots per series and a legend on the right. Points are drawn in x order.
 */
export function lineChartSvg(series: readonly ChartSeries[], labels: ChartLabels): string {
  const all = series.flatMap((s) => s.points);
  const maxX = niceMax(Math.max(1, ...all.map((p) => p.x)));
  const maxY = niceMax(Math.max(1, ...all.map((p) => p.y)));
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const sx = (x: number) => round(MARGIN.left + (x / maxX) * plotW);
  const sy = (y: number) => round(MARGIN.top + plotH - (y / maxY) * plotH);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="14">${escape(labels.title)}</text>`,
  ];
  for (let k = 0; k <= 5; k++) {
    const x = (maxX * k) / 5;
    const y = (maxY * k) / 5;
    parts.push(`<line x1="${sx(0)}" y1="${sy(y)}" x2="${sx(maxX)}" y2="${sy(y)}" stroke="#ddd"/>`);
    parts.push(`<text x="${sx(0) - 6}" y="${sy(y) + 4}" text-anchor="end">${format(y)}</text>`);
    parts.push(`<text x="${sx(x)}" y="${sy(0) + 18}" text-anchor="middle">${format(x)}</text>`);
  }
  parts.push(`<text x="${sx(maxX / 2)}" y="${HEIGHT - 10}" text-anchor="middle">${escape(labels.x)}</text>`);
  parts.push(`<text transform="translate(16 ${sy(maxY / 2)}) rotate(-90)" text-anchor="middle">${escape(labels.y)}</text>`);
  series.forEach((s, k) => {
    const points = [...s.points].sort((a, b) => a.x - b.x);
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${points.map((p) => `${sx(p.x)},${sy(p.y)}`).join(" ")}"/>`);
    for (const p of points) parts.push(`<circle cx="${sx(p.x)}" cy="${sy(p.y)}" r="3" fill="${s.color}"/>`);
    const ly = MARGIN.top + 10 + k * 20;
    parts.push(`<line x1="${WIDTH - MARGIN.right + 15}" y1="${ly}" x2="${WIDTH - MARGIN.right + 35}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`);
    parts.push(`<text x="${WIDTH - MARGIN.right + 40}" y="${ly + 4}">${escape(s.name)}</text>`);
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}

/** The smallest of 1, 2, 2.5, 5 × 10^k at or above `value`. */
export function niceMax(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function format(value: number): string {
  return value.toLocaleString("en-US", { maximumFractionDigits: 1 });
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
