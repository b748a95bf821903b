import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, brotliDecompressSync } from "node:zlib";
import { pino } from "pino";
import type { Browser, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker } from "../client-node/index.js";
import { ARTIFACTS, hostPage, launchChromium, pageStats, startBrowserGrid, startHostSite, until, type BrowserGrid, type HostSite } from "./browser-fixture.js";

/** CPU-bound, deterministic: the test recomputes every output. */
function work(n: number): { n: number; s: number } {
  let s = 0;
  for (let i = 0; i < 1_000_000; i++) s = (s + i * n) % 1_000_003;
  return { n, s };
}
const PROGRAM = `export default ${work.toString()}`;

let grid: BrowserGrid;
let host: HostSite;
let browser: Browser;

beforeAll(async () => {
  [grid, host, browser] = await Promise.all([startBrowserGrid(), startHostSite(), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
  await host?.close();
  await grid?.close();
});

describe("the browser embed", () => {
  it("serves client.js to any origin, with an ETag, a cache policy and brotli or gzip", async () => {
    const url = `${grid.distributor.url}/client.js`;
    const plain = await fetch(url, { headers: { origin: "https://some.site", "accept-encoding": "identity" } });
    expect(plain.status).toBe(200);
    expect(plain.headers.get("access-control-allow-origin")).toBe("*");
    expect(plain.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(plain.headers.get("cache-control")).toBe("public, max-age=300");
    const etag = plain.headers.get("etag");
    expect(etag).toMatch(/^"[\w-]{27}"$/);
    const body = Buffer.from(await plain.arrayBuffer());
    expect(body.toString("utf8")).toContain("disio-runner-connect");
    const raw = (encoding: string) => new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
      // node's fetch decodes bodies itself: read the bytes off the wire with http.get.
      void import("node:http").then(({ get }) =>
        get(url, { headers: { "accept-encoding": encoding } }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => resolve({ encoding: res.headers["content-encoding"], body: Buffer.concat(chunks) }));
        }).on("error", reject),
      );
    });
    const br = await raw("gzip, deflate, br");
    expect(br.encoding).toBe("br");
    expect(brotliDecompressSync(br.body).equals(body)).toBe(true);
    const gzip = await raw("gzip");
    expect(gzip.encoding).toBe("gzip");
    expect(gunzipSync(gzip.body).equals(body)).toBe(true);
    expect((await fetch(url, { headers: { "if-none-match": etag! } })).status).toBe(304);
    const runner = await fetch(`${grid.distributor.url}/runner.html`);
    expect(runner.headers.get("content-security-policy")).toMatch(/^default-src 'none'; script-src 'sha256-[\w+/=]+' blob:; worker-src blob:; connect-src 'none';.*sandbox allow-scripts$/);
    expect((await fetch(`${grid.distributor.url}/client.d.ts`)).status).toBe(200);
    expect((await fetch(`${grid.distributor.url}/nothing-here`)).status).toBe(404);
  });

  it("computes a project from a page on another origin, together with a disio worker, with correct outputs", async () => {
    const inputs = Array.from({ length: 300 }, (_, i) => i + 1);
    const page = await browser.newPage();
    await page.goto(host.page("/cross-origin", hostPage(grid.distributor.url, { threads: "1" })));
    const worker = await startWorker({ distributorUrl: grid.distributor.url, workers: 1, log: pino({ level: "silent" }) });
    try {
      // Both Work streams are open before the units exist, so both get tasks from the first batch
      // however busy the machine (a worker still starting would find a fast page done with them all).
      await until(async () => (await grid.connectedClients()) === 2, 60_000, "the page and the worker connected");
      const projectId = await grid.project("cross-origin", PROGRAM, inputs);
      let results: Awaited<ReturnType<BrowserGrid["results"]>> = [];
      await until(async () => (results = await grid.results(projectId)).length === inputs.length, 120_000, "every unit done");
      for (const result of results) expect(result.output).toEqual(work(result.input as number));
      expect(results.map((r) => r.input).sort((a, b) => Number(a) - Number(b))).toEqual(inputs);
      // Counters follow the results: the page counts a result once the distributor acknowledged it.
      await until(async () => ((await pageStats(page))?.tasksDone ?? 0) + worker.stats().completed >= inputs.length, 30_000, "both counters caught up");
      const stats = await pageStats(page);
      expect(stats).toMatchObject({ state: "running", distributor: grid.distributor.url, threads: 1, tasksFailed: 0, projectIds: [projectId] });
      expect(stats!.tasksDone).toBeGreaterThan(0);
      expect(worker.stats().completed).toBeGreaterThan(0);
    } finally {
      await worker.stop({ graceMs: 1_000 });
      await page.close();
    }
  });

  it("sends nothing more after disio.stop(), and its threads are gone", async () => {
    await grid.project("stop", PROGRAM, Array.from({ length: 2_000 }, (_, i) => i));
    const page = await browser.newPage();
    await page.goto(host.page("/stop", hostPage(grid.distributor.url, { threads: "1" })));
    await until(async () => ((await pageStats(page))?.tasksDone ?? 0) >= 3, 60_000, "the browser computing");
    expect(page.frames()).toHaveLength(2);
    await page.evaluate(() => (window as unknown as { disio: { stop(): Promise<void> } }).disio.stop());
    const after: Request[] = [];
    page.on("request", (request) => after.push(request));
    const stats = await pageStats(page);
    expect(stats?.state).toBe("stopped");
    expect(page.frames()).toHaveLength(1);
    // Longer than a heartbeat tick, a report delay and a reconnect backoff.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(after.map((request) => request.url())).toEqual([]);
    expect((await pageStats(page))?.tasksDone).toBe(stats?.tasksDone);
    await page.close();
  });

  it("shows on the demo page what this browser computes (screenshot kept in test-artifacts/)", async () => {
    await grid.project("demo", PROGRAM, Array.from({ length: 2_000 }, (_, i) => i));
    const page = await browser.newPage({ viewport: { width: 900, height: 640 } });
    await page.goto(`${grid.distributor.url}/`);
    await until(async () => ((await pageStats(page))?.tasksDone ?? 0) >= 20, 60_000, "the demo page computing");
    await page.waitForTimeout(600);
    const done = Number((await page.locator("#done b").textContent())?.replace(/\D/g, ""));
    expect(done).toBeGreaterThanOrEqual(20);
    expect(await page.locator("#state b").textContent()).toBe("running");
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "demo-page.png") });
    await page.evaluate(() => (window as unknown as { disio: { stop(): Promise<void> } }).disio.stop());
    await page.close();
  });
});
