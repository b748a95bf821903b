import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Outcome } from "../gen/disio/v1/common_pb.js";
import { DistributorServiceGetProgramResponseSchema, JoinRequestSchema } from "../gen/disio/v1/distributor_service_pb.js";
import { hostPage, launchChromium, pageStats, startBrowserGrid, startHostSite, until, type BrowserGrid, type HostSite } from "./browser-fixture.js";

/**
 * A program runs in a stranger's browser only if the manager signed it, and then it reaches neither
 * the network nor the page: checked in a real Chromium against a real manager and distributor.
 */
let grid: BrowserGrid;
let host: HostSite;
let browser: Browser;

beforeAll(async () => {
  // A short run-time limit, so the endless program below is killed soon.
  [grid, host, browser] = await Promise.all([startBrowserGrid({ maxRunTimeMs: 1_500 }), startHostSite(), launchChromium()]);
});

afterAll(async () => {
  await browser?.close();
  await host?.close();
  await grid?.close();
});

async function finalCopies(projectId: string, units: number) {
  let copies: Awaited<ReturnType<BrowserGrid["copies"]>> = [];
  await until(async () => {
    copies = (await grid.copies(projectId)).filter((copy) => copy.outcome !== Outcome.PENDING);
    return copies.length >= units;
  }, 60_000, "copies reported");
  return copies;
}

describe("the browser sandbox", () => {
  it("never runs a program whose signature does not verify: an error event, no ok result", async () => {
    const projectId = await grid.project("tampered", "export default function work(n) { return n + 1; }", [1, 2, 3], { maxAttempts: 1 });
    const page = await browser.newPage();
    // A distributor (or anyone on the path) swapping the signature: flip one bit of it.
    await page.route("**/disio.v1.DistributorService/GetProgram", async (route) => {
      const response = await route.fetch();
      const answer = fromBinary(DistributorServiceGetProgramResponseSchema, new Uint8Array(await response.body()));
      answer.program!.signature[0]! ^= 1;
      await route.fulfill({ response, body: Buffer.from(toBinary(DistributorServiceGetProgramResponseSchema, create(DistributorServiceGetProgramResponseSchema, answer))) });
    });
    await page.goto(host.page("/tampered", hostPage(grid.distributor.url, { threads: "1" })));
    await page.evaluate(() => {
      const w = window as unknown as { disio: { on(e: string, f: (p: unknown) => void): void }; seen: unknown[]; results: unknown[] };
      w.seen = [];
      w.results = [];
      w.disio.on("error", (e) => w.seen.push(e));
      w.disio.on("result", (r) => w.results.push(r));
    });
    const copies = await finalCopies(projectId, 3);
    expect(copies.map((copy) => copy.outcome)).toEqual([Outcome.ERROR, Outcome.ERROR, Outcome.ERROR]);
    expect(copies.every((copy) => /signature verification/.test(copy.error))).toBe(true);
    const seen = (await page.evaluate(() => (window as unknown as { seen: { kind: string; message: string }[] }).seen)).filter((e) => e.kind === "program");
    expect(seen[0]?.message).toMatch(/failed signature verification/);
    expect(await page.evaluate(() => (window as unknown as { results: unknown[] }).results)).toEqual([]);
    expect((await grid.results(projectId)).length).toBe(0);
    await page.close();
  });

  it("gives a program no network: fetch is an error outcome, nothing reaches the test server; throws and endless loops are error outcomes", async () => {
    const leak = `${host.url}/leak`;
    const fetcher = `export default async function work() { await fetch(${JSON.stringify(leak)}); return "leaked"; }`;
    // Tries every other way out, each in its own try, and says which got through.
    const probe = `
      const leak = ${JSON.stringify(leak)};
      const tries = {
        xhr: () => new Promise((ok, ko) => { const x = new XMLHttpRequest(); x.onload = ok; x.onerror = ko; x.open("GET", leak + "?xhr"); x.send(); }),
        websocket: () => new Promise((ok, ko) => { const s = new WebSocket(leak.replace("http", "ws") + "?ws"); s.onopen = ok; s.onerror = ko; }),
        importScripts: () => importScripts(leak + "?importScripts"),
        dynamicImport: () => import(leak + "?import"),
        eventSource: () => new Promise((ok, ko) => { const e = new EventSource(leak + "?sse"); e.onopen = ok; e.onerror = ko; }),
        nestedWorkerFetch: () => new Promise((ok, ko) => {
          const url = URL.createObjectURL(new Blob(["fetch(" + JSON.stringify(leak + "?nested") + ").then(() => postMessage('ok'), () => postMessage('blocked'))"]));
          const w = new Worker(url); w.onmessage = (e) => (e.data === "ok" ? ok() : ko(new Error("blocked"))); w.onerror = ko;
        }),
        indexedDB: () => new Promise((ok, ko) => { const r = indexedDB.open("x"); r.onsuccess = ok; r.onerror = ko; }),
        dom: () => { if (typeof document === "undefined" || typeof parent === "undefined") throw new Error("no DOM"); return document.cookie; },
      };
      export default async function work() {
        const out = {};
        for (const [name, attempt] of Object.entries(tries)) {
          try { await Promise.race([attempt(), new Promise((_, ko) => setTimeout(() => ko(new Error("timeout")), 300))]); out[name] = "reached"; }
          catch { out[name] = "blocked"; }
        }
        return out;
      }`;
    const fetchProject = await grid.project("fetcher", fetcher, [1, 2], { maxAttempts: 1 });
    const probeProject = await grid.project("probe", probe, [1], { maxAttempts: 1 });
    const throwProject = await grid.project("thrower", "export default function work(n) { if (n === 0) throw new RangeError('zero'); return 10 / n; }", [0, 5], { maxAttempts: 1 });
    const loopProject = await grid.project("looper", "export default function work() { for (;;) {} }", [1], { maxAttempts: 1 });
    const page = await browser.newPage();
    await page.goto(host.page("/sandbox", hostPage(grid.distributor.url, { threads: "1" })));
    const hostRequestsBefore = host.requests.length;
    const fetches = await finalCopies(fetchProject, 2);
    expect(fetches.map((copy) => copy.outcome)).toEqual([Outcome.ERROR, Outcome.ERROR]);
    expect(fetches[0]?.error).toMatch(/fetch/);
    await finalCopies(probeProject, 1);
    const [probed] = await grid.results(probeProject);
    expect(probed?.output).toEqual({ xhr: "blocked", websocket: "blocked", importScripts: "blocked", dynamicImport: "blocked", eventSource: "blocked", nestedWorkerFetch: "blocked", indexedDB: "blocked", dom: "blocked" });
    const thrown = await finalCopies(throwProject, 2);
    expect(thrown.map((copy) => copy.outcome).sort()).toEqual([Outcome.OK, Outcome.ERROR].sort());
    expect(thrown.find((copy) => copy.outcome === Outcome.ERROR)?.error).toMatch(/RangeError: zero/);
    const [looped] = await finalCopies(loopProject, 1);
    expect(looped?.outcome).toBe(Outcome.ERROR);
    expect(looped?.error).toBe("timeout: the unit ran past its wall-clock limit of 1500 ms");
    // The thread was replaced and carries on: the page is still computing.
    expect((await pageStats(page))?.state).toBe("running");
    expect(host.requests.slice(hostRequestsBefore).filter((request) => request.path !== "/favicon.ico")).toEqual([]);
    await page.close();
  });
});

describe("signature checks without WebCrypto Ed25519", () => {
  /** Before client.js loads: WebCrypto refuses Ed25519 as older browsers do, and counts what was asked of it. */
  const refuseEd25519 = () => {
    const subtle = crypto.subtle;
    const isEd25519 = (algorithm: unknown) => String(typeof algorithm === "string" ? algorithm : (algorithm as { name?: string } | undefined)?.name).toLowerCase() === "ed25519";
    const calls = { refused: 0, webCryptoVerifies: 0 };
    (window as unknown as { ed25519Calls: typeof calls }).ed25519Calls = calls;
    const importKey = subtle.importKey.bind(subtle) as (...args: unknown[]) => Promise<CryptoKey>;
    const verify = subtle.verify.bind(subtle) as (...args: unknown[]) => Promise<boolean>;
    Object.assign(subtle, {
      importKey: (...args: unknown[]) => {
        if (!isEd25519(args[2])) return importKey(...args);
        calls.refused++;
        return Promise.reject(new DOMException("Algorithm: Unrecognized name", "NotSupportedError"));
      },
      verify: (...args: unknown[]) => {
        if (isEd25519(args[0])) calls.webCryptoVerifies++;
        return verify(...args);
      },
    });
  };

  it("verifies with @noble/ed25519: a signed program runs, a tampered one never does", async () => {
    const context = await browser.newContext();
    await context.addInitScript(refuseEd25519);
    const page = await context.newPage();
    const calls = () => page.evaluate(() => (window as unknown as { ed25519Calls: { refused: number; webCryptoVerifies: number } }).ed25519Calls);
    try {
      const good = await grid.project("noble-good", "export default function work(n) { return n * 3; }", [1, 2, 3, 4], { maxAttempts: 1 });
      await page.goto(host.page("/noble", hostPage(grid.distributor.url, { threads: "1" })));
      const goodCopies = await finalCopies(good, 4);
      expect(goodCopies.map((copy) => copy.outcome)).toEqual([Outcome.OK, Outcome.OK, Outcome.OK, Outcome.OK]);
      expect((await grid.results(good)).map((r) => r.output).sort((a, b) => Number(a) - Number(b))).toEqual([3, 6, 9, 12]);
      expect(await calls()).toMatchObject({ webCryptoVerifies: 0 });
      expect((await calls()).refused).toBeGreaterThan(0);

      await page.route("**/disio.v1.DistributorService/GetProgram", async (route) => {
        const response = await route.fetch();
        const answer = fromBinary(DistributorServiceGetProgramResponseSchema, new Uint8Array(await response.body()));
        answer.program!.signature[5]! ^= 4;
        await route.fulfill({ response, body: Buffer.from(toBinary(DistributorServiceGetProgramResponseSchema, create(DistributorServiceGetProgramResponseSchema, answer))) });
      });
      const bad = await grid.project("noble-bad", "export default function work(n) { return n + 100; }", [1, 2], { maxAttempts: 1 });
      const badCopies = await finalCopies(bad, 2);
      expect(badCopies.map((copy) => copy.outcome)).toEqual([Outcome.ERROR, Outcome.ERROR]);
      expect(badCopies.every((copy) => /signature verification/.test(copy.error))).toBe(true);
      expect((await grid.results(bad)).length).toBe(0);
      expect(await calls()).toMatchObject({ webCryptoVerifies: 0 });
    } finally {
      await context.close();
    }
  });
});

describe("a visitor's identity and pinned manager key", () => {
  type Remembered = { distributorUrl: string; groupId: string; publicKey: string }[];
  const stored = (page: Page) =>
    page.evaluate(() => ({ key: localStorage.getItem("disio:client-key"), trusted: JSON.parse(localStorage.getItem("disio:trusted-keys") ?? "[]") as Remembered }));

  it("keeps one client key across visits, pins the manager key on first use, and refuses another unless the tag pins it", async () => {
    const { publicKeyBase64 } = await grid.admin.getInfo({});
    await grid.project("identity", "export default function work(n) { return n; }", Array.from({ length: 2_000 }, (_, i) => i));
    const context = await browser.newContext();
    const requests: { path: string; clientKey?: string }[] = [];
    context.on("request", (request) => {
      const path = new URL(request.url()).pathname;
      const body = request.postDataBuffer();
      requests.push({ path, ...(path.endsWith("/Join") && body !== null && { clientKey: fromBinary(JoinRequestSchema, new Uint8Array(body)).clientKey }) });
    });
    const visit = async (data: Record<string, string>, expected: "running" | "failed") => {
      const page = await context.newPage();
      requests.length = 0;
      await page.goto(host.page("/identity", hostPage(grid.distributor.url, { threads: "1", ...data })));
      await until(async () => {
        const stats = await pageStats(page);
        return expected === "running" ? (stats?.tasksDone ?? 0) >= 1 : stats?.state === "failed";
      }, 30_000, `the page ${expected}`);
      return page;
    };
    try {
      const keys: (string | undefined)[] = [];
      for (let n = 0; n < 2; n++) {
        const page = await visit({}, "running");
        keys.push(requests.find((request) => request.clientKey !== undefined)?.clientKey);
        expect(await stored(page)).toEqual({ key: keys[0], trusted: [{ distributorUrl: grid.distributor.url, groupId: expect.any(String), publicKey: publicKeyBase64 }] });
        await page.close();
      }
      expect(keys[0]).toMatch(/^[\w-]{43}$/);
      expect(keys[1]).toBe(keys[0]);

      // The distributor announcing another key than the one this browser trusted, as a hijacked one
      // would (here the remembered key is changed instead): joined, refused, nothing fetched or run.
      const other = Buffer.alloc(32, 7).toString("base64");
      const tamper = await context.newPage();
      await tamper.goto(host.page("/blank", "<!doctype html><p>blank</p>"));
      await tamper.evaluate(
        ([url, key]) => localStorage.setItem("disio:trusted-keys", JSON.stringify([{ distributorUrl: url, groupId: "", publicKey: key }])),
        [grid.distributor.url, other] as const,
      );
      await tamper.close();
      const refused = await visit({}, "failed");
      expect(requests.map((request) => request.path).filter((path) => /\/(Work|GetProgram|Report)$/.test(path))).toEqual([]);
      expect((await pageStats(refused))?.tasksDone).toBe(0);
      await refused.close();
      // A wrong pin in the tag is refused the same way; the right one runs and replaces the remembered key.
      await (await visit({ trust: other }, "failed")).close();
      const pinned = await visit({ trust: publicKeyBase64 }, "running");
      expect((await stored(pinned)).trusted.map((entry) => entry.publicKey)).toEqual([publicKeyBase64]);
      await pinned.close();
      const malformed = await visit({ trust: "not-a-key" }, "failed");
      expect(requests.filter((request) => request.path.includes("DistributorService"))).toEqual([]);
      await malformed.close();
    } finally {
      await context.close();
    }
  });
});
