import { readdirSync, readFileSync } from "node:fs";
import { pino } from "pino";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker } from "../client-node/index.js";
import { Outcome } from "../gen/disio/v1/common_pb.js";
import { hostPage, launchChromium, pageStats, startBrowserGrid, startHostSite, startReportRelay, until, type BrowserGrid, type HostSite } from "./browser-fixture.js";

/** How long a client may hold a task before the distributor gives it to someone else, ms. */
const TASK_LEASE_MS = 60_000;

let grid: BrowserGrid;
let host: HostSite;
let browser: Browser;

beforeAll(async () => {
  [grid, host, browser] = await Promise.all([startBrowserGrid({ taskLeaseMs: TASK_LEASE_MS, sessionGapMs: 1_000 }), startHostSite(), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
  await host?.close();
  await grid?.close();
});

/** CPU time (user + system, s) of every process under this one (the browser and its children), from /proc. */
function childrenCpuSeconds(rootPid: number): number {
  const parent = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parent.set(Number(entry), Number(fields[1]));
      ticks.set(Number(entry), Number(fields[11]) + Number(fields[12]));
    } catch {
      // the process ended meanwhile
    }
  }
  const inTree = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === rootPid) return true;
    return false;
  };
  let total = 0;
  for (const [pid, t] of ticks) if (inTree(pid)) total += t;
  return total / 100; // USER_HZ
}

describe("visitors come and go", () => {
  // First in this file: the grid has seen no other browser yet.
  it("a visitor's stay reaches the manager's lifespan statistics, in the right histogram bucket", async () => {
    const page = await browser.newPage();
    await page.goto(host.page("/stay", hostPage(grid.distributor.url, { threads: "1" })));
    await until(async () => (await pageStats(page))?.state === "running", 30_000, "the page joined");
    const joinedAt = Date.now();
    await page.waitForTimeout(6_000);
    await page.close();
    const stayMs = Date.now() - joinedAt;
    const browserLifespan = async () => (await grid.admin.getStats({})).platformLifespans.find((life) => life.platform === "browser");
    await until(async () => (await browserLifespan()) !== undefined, 30_000, "the stay in GetStats");
    const life = (await browserLifespan())!;
    expect(life.clients).toBe(1n);
    const medianMs = Number(life.median!.seconds) * 1000 + life.median!.nanos / 1e6;
    expect(medianMs).toBeGreaterThanOrEqual(6_000);
    expect(medianMs).toBeLessThanOrEqual(stayMs + 2_000);
    // The histogram: one visitor, in [5 s, 15 s).
    const filled = life.buckets.filter((bucket) => bucket.clients > 0n).map((bucket) => [Number(bucket.upperBound?.seconds), Number(bucket.clients)]);
    expect(filled).toEqual([[15, 1]]);
    const bucket = life.buckets.findIndex((b) => Number(b.upperBound?.seconds) === 15);
    expect(Number(life.buckets[bucket - 1]!.upperBound!.seconds)).toBe(5);
  });

  it("leaving the page for real hands its tasks back and delivers its finished results before the stream's end requeues them; the rest finish elsewhere long before the lease ends", async () => {
    const slow = "export default function work(n) { const end = performance.now() + 300; while (performance.now() < end) {} return n * 2; }";
    const inputs = Array.from({ length: 16 }, (_, i) => i);
    const projectId = await grid.project("leaving", slow, inputs, { leaseTimeoutSeconds: 300 });
    // The page's Reports of results hang as if stuck on the network: when it goes, its finished
    // results exist only in the page, and only its farewell can deliver them.
    const relay = await startReportRelay(grid.distributor.url, (report) => report.results.length > 0 && report.returnedCopyIds.length === 0);
    const context = await browser.newContext();
    const page = await context.newPage();
    const worker = { current: undefined as Awaited<ReturnType<typeof startWorker>> | undefined };
    try {
      await page.goto(host.page("/leaving", hostPage(relay.url, { threads: "1" })));
      await until(() => relay.held.flatMap((report) => report.results).length >= 2, 60_000, "finished results on the wire");
      const mark = grid.distributorLog.length;
      const since = () => grid.distributorLog.slice(mark);
      // A real unload: the browser fires pagehide, sends the keepalive farewell and closes the
      // page's connections, its Work stream's among them, in the same instant.
      await page.goto(host.page("/elsewhere", "<!doctype html><p>another page</p>"));
      const leftAt = Date.now();
      await until(() => since().some((entry) => entry.msg === "work stream ended"), 15_000, "the page's stream ended at the distributor");
      const farewell = since().find((entry) => entry.msg === "copies handed back");
      const streamEnd = since().find((entry) => entry.msg === "work stream ended");
      expect(farewell).toBeDefined();
      expect(since().indexOf(farewell!)).toBeLessThan(since().indexOf(streamEnd!));
      expect(farewell!.results).toBeGreaterThanOrEqual(2);
      expect(farewell!.returned).toBeGreaterThan(0);
      expect(farewell!.requeued).toBe(farewell!.returned);
      // The farewell settled every copy: the stream's end found nothing left to requeue.
      expect(streamEnd!.requeued).toBe(0);
      const pageFinished = farewell!.results as number;
      worker.current = await startWorker({ distributorUrl: grid.distributor.url, workers: 1, log: pino({ level: "silent" }) });
      await until(async () => (await grid.results(projectId)).length === inputs.length, TASK_LEASE_MS, "every unit done");
      expect(Date.now() - leftAt).toBeLessThan(TASK_LEASE_MS / 3);
      expect((await grid.results(projectId)).map((r) => r.output).sort((a, b) => Number(a) - Number(b))).toEqual(inputs.map((n) => n * 2));
      // Nothing the page finished was computed again: the worker did exactly the rest.
      await until(() => worker.current!.stats().completed + pageFinished >= inputs.length, 10_000, "the worker's counter");
      expect(worker.current.stats().completed).toBe(inputs.length - pageFinished);
      expect((await grid.copies(projectId)).every((copy) => copy.outcome === Outcome.OK)).toBe(true);
      expect(await grid.copies(projectId)).toHaveLength(inputs.length);
    } finally {
      await worker.current?.stop({ graceMs: 1_000 });
      await context.close();
      await relay.close();
    }
  });

  it("a hidden tab (data-pause-hidden by default) hands its tasks back at once, computes nothing while hidden, and resumes when shown", async () => {
    const program = "export default function work(n) { const end = performance.now() + 100; while (performance.now() < end) {} return n; }";
    const projectId = await grid.project("hidden", program, Array.from({ length: 300 }, (_, i) => i), { leaseTimeoutSeconds: 300 });
    const page = await browser.newPage();
    // The tab's visibility as the browser reports it: flipped below the way a real tab switch does
    // (document.visibilityState changes, then visibilitychange fires on the document).
    await page.addInitScript(() => {
      let state: DocumentVisibilityState = "visible";
      Object.defineProperty(Document.prototype, "visibilityState", { configurable: true, get: () => state });
      Object.defineProperty(Document.prototype, "hidden", { configurable: true, get: () => state === "hidden" });
      (window as unknown as { setVisibility(next: DocumentVisibilityState): void }).setVisibility = (next) => {
        state = next;
        document.dispatchEvent(new Event("visibilitychange", { bubbles: true }));
      };
    });
    const setVisibility = (state: "visible" | "hidden") => page.evaluate((next) => (window as unknown as { setVisibility(s: string): void }).setVisibility(next), state);
    try {
      await page.goto(host.page("/hidden", hostPage(grid.distributor.url, { threads: "1" })));
      await page.evaluate(() => {
        const w = window as unknown as { disio: { on(e: string, f: () => void): void }; computed: number };
        w.computed = 0;
        w.disio.on("result", () => w.computed++);
      });
      const computed = () => page.evaluate(() => (window as unknown as { computed: number }).computed);
      await until(async () => ((await pageStats(page))?.tasksDone ?? 0) >= 3, 60_000, "the page computing");
      const mark = grid.distributorLog.length;
      const since = () => grid.distributorLog.slice(mark);
      await setVisibility("hidden");
      expect((await pageStats(page))?.state).toBe("paused");
      await until(() => since().some((entry) => entry.msg === "work stream ended"), 10_000, "the hidden page's stream ended");
      const handBack = since().find((entry) => entry.msg === "copies handed back");
      expect(handBack?.returned).toBeGreaterThan(0);
      expect(handBack?.requeued).toBe(handBack?.returned);
      // Nothing runs while hidden: no result, and the browser's CPU stays near idle.
      const hiddenComputed = await computed();
      const hiddenDone = (await pageStats(page))!.tasksDone;
      const cpuBefore = childrenCpuSeconds(process.pid);
      await page.waitForTimeout(2_000);
      const hiddenCpu = childrenCpuSeconds(process.pid) - cpuBefore;
      expect(await computed()).toBe(hiddenComputed);
      expect((await pageStats(page))!.tasksDone).toBe(hiddenDone);
      expect(hiddenCpu).toBeLessThan(0.8);
      await setVisibility("visible");
      await until(async () => (await pageStats(page))?.state === "running", 10_000, "the page running again");
      await until(async () => ((await pageStats(page))?.tasksDone ?? 0) >= hiddenDone + 3, 30_000, "the page computing again");
      expect(await computed()).toBeGreaterThan(hiddenComputed);
    } finally {
      await page.evaluate(() => (window as unknown as { disio: { stop(): Promise<void> } }).disio.stop());
      await page.close();
      // Its units left over must not feed the next test's page.
      await grid.admin.deleteProject({ id: projectId });
    }
  });

  it("data-cpu=0.25 uses measurably less CPU than data-cpu=1", async () => {
    const program = "export default function work(n) { let s = 0; for (let i = 0; i < 8_000_000; i++) s = (s + i * n) % 1_000_003; return s; }";
    await grid.project("duty-cycle", program, Array.from({ length: 5_000 }, (_, i) => i));
    // Chromium runs as a child of this test process (the manager and distributor run in it, not under it).
    const pid = process.pid;
    const measure = async (cpu: string) => {
      const page = await browser.newPage();
      await page.goto(host.page(`/cpu-${cpu}`, hostPage(grid.distributor.url, { threads: "1", cpu })));
      await until(async () => ((await pageStats(page))?.tasksDone ?? 0) >= 3, 60_000, "the page computing");
      const before = childrenCpuSeconds(pid);
      const doneBefore = (await pageStats(page))!.tasksDone;
      await page.waitForTimeout(4_000);
      const seconds = childrenCpuSeconds(pid) - before;
      const tasks = (await pageStats(page))!.tasksDone - doneBefore;
      await page.evaluate(() => (window as unknown as { disio: { stop(): Promise<void> } }).disio.stop());
      await page.close();
      return { seconds, tasks };
    };
    const full = await measure("1");
    const quarter = await measure("0.25");
    // CPU time of the whole browser (messaging and page included) and units computed, with room
    // for a busy machine: a quarter duty cycle is far below the full one on both.
    expect(full.seconds).toBeGreaterThan(0.5);
    expect(quarter.seconds / full.seconds).toBeLessThan(0.6);
    expect(quarter.tasks / full.tasks).toBeLessThan(0.5);
  });
});
