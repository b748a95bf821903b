import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGridServers, waitFor, type GridServers } from "../bench/grid-fixture.js";
import { WatchResultsRequestSchema, type Client } from "../gen/disio/v1/admin_service_pb.js";

/** Screenshots of every page, kept as test artefacts (gitignored) to look at. */
const SHOTS = join(import.meta.dirname, "..", "test-artifacts", "panel");
const UNITS = 200;
const encoder = new TextEncoder();

describe("the control panel in Chromium", () => {
  let grid: GridServers;
  let browser: Browser;
  let page: Page;
  const shot = (name: string, p = page) => p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    grid = await startGridServers({ prefix: "disio-panel-" });
    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await grid?.close();
  });

  it("refuses a wrong token with a clear message, then signs in", async () => {
    const outside: string[] = [];
    page.on("request", (request) => {
      if (!request.url().startsWith(grid.manager.url)) outside.push(request.url());
    });
    await page.goto(`${grid.manager.url}/`);
    await page.fill("input[name=token]", "not-the-token");
    await page.click("button[type=submit]");
    await page.getByRole("alert").getByText("The manager refused this token").waitFor();
    await shot("sign-in-refused");
    await page.fill("input[name=token]", grid.adminToken);
    await page.click("button[type=submit]");
    await page.getByRole("heading", { name: "Projects", exact: true }).waitFor();
    await page.getByText("live ·").waitFor();
    await shot("projects-empty");
    await page.click("nav >> text=Clients");
    await page.getByRole("heading", { name: "No client judged yet" }).waitFor();
    await shot("clients-empty");
    await page.click("nav >> text=Projects");
    expect(outside).toEqual([]);
  });

  it("creates a project from a program file, adds units from a file, and watches them finish while a worker runs", async () => {
    const program = join(grid.dir, "cube.js");
    writeFileSync(program, "export default async function work(input) { return { n: input.n, cube: input.n ** 3 }; }\n");
    await page.click("text=New project");
    const form = page.getByRole("form", { name: "new project" });
    await form.locator("input[name=name]").fill("cubes");
    await form.locator("input[name=program]").setInputFiles(program);
    await form.locator("input[name=replication]").fill("2");
    await form.locator("input[name=quorum]").fill("2");
    await form.locator("input[name=priority]").fill("3");
    await form.locator("input[name=canaryRate]").fill("0.2");
    await shot("projects-create-form");
    await form.locator("button[type=submit]").click();
    await page.locator("tr[data-project=cubes]").waitFor();
    const created = (await grid.admin.listProjects({})).projects.find((p) => p.name === "cubes")!;
    expect([created.canaryRate, created.adaptiveReplication, created.quorum]).toEqual([0.2, false, 2]);
    // Canaries with known answers: the one worker's results are judged against them, so it earns trust.
    const canaries = [1000, 1001, 1002, 1003].map((n) => ({ input: encoder.encode(JSON.stringify({ n })), expectedOutput: encoder.encode(JSON.stringify({ n, cube: n ** 3 })) }));
    await grid.admin.addUnits({ projectId: created.id, units: canaries });

    await page.click("tr[data-project=cubes] >> text=cubes");
    await page.getByRole("heading", { name: /cubes/ }).waitFor();
    const inputs = join(grid.dir, "cubes.ndjson");
    writeFileSync(inputs, Array.from({ length: UNITS }, (_, n) => JSON.stringify({ n })).join("\n") + "\n");
    await page.getByLabel("units file").setInputFiles(inputs);
    await page.getByText(`Added ${UNITS} units from cubes.ndjson.`).waitFor();

    grid.addWorker(1);
    await page.locator("[data-count=done]", { hasText: String(UNITS) }).waitFor({ timeout: 60_000 });
    await page.locator("table.results tbody tr").first().waitFor();
    await shot("project-done");
  }, 90_000);

  it("a project page opened later starts its latest results near the end and still shows the last hour's throughput", async () => {
    const { projects } = await grid.admin.listProjects({});
    const cubes = projects.find((p) => p.name === "cubes")!;
    // The manager keeps per-minute counts: every unit finished shows in the history.
    await waitFor("the history holding every unit", async () => {
      const { projects: [stats] } = await grid.admin.getStats({ projectId: cubes.id });
      return stats!.finishedPerMinute.reduce((sum, n) => sum + n, 0n) === BigInt(UNITS);
    }, 30_000);
    const { results: [last] } = await grid.admin.listResults({ projectId: cubes.id, latest: true, pageSize: 1 });
    const later = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const watched: string[] = [];
    later.on("request", (request) => {
      if (request.url().endsWith("/disio.v1.AdminService/WatchResults")) {
        // A Connect stream request: a 5-byte envelope prefix, then the message.
        watched.push(fromBinary(WatchResultsRequestSchema, request.postDataBuffer()!.subarray(5)).cursor);
      }
    });
    await later.goto(`${grid.manager.url}/#token=${encodeURIComponent(grid.adminToken)}`);
    await later.locator("tr[data-project=cubes]").waitFor();
    await later.click("tr[data-project=cubes] >> text=cubes");
    await later.locator("table.results tbody tr").first().waitFor();
    expect(await later.locator("table.results tbody tr").count()).toBe(20);
    await expect.poll(() => later.locator("table.results tbody tr").first().textContent()).toContain(last!.unitId);
    expect(watched).toEqual([last!.cursor]);
    await shot("project-opened-later", later);
    await later.close();
  });

  it("finds a unit and shows every copy sent, with client and outcome", async () => {
    const projectId = (await grid.admin.listProjects({})).projects[0]!.id;
    const unitId = (await grid.admin.listUnits({ projectId, pageSize: 1 })).units[0]!.id;
    await page.getByLabel("unit id").fill(unitId);
    await page.click("text=Show");
    const rows = page.locator("table.copies tbody tr");
    await rows.first().waitFor();
    expect(await rows.count()).toBe(2);
    expect(await rows.first().locator("td").nth(5).innerText()).toBe("ok");
    expect((await rows.first().locator("td").nth(2).innerText()).length).toBeGreaterThan(3);
    await shot("project-unit-copies");
  });

  it("lists clients by trust: the worker's client, its trust earned on canaries", async () => {
    // A canary copy's result may still be on its way when the last unit finishes: wait for the figures to settle.
    let worker: Client | undefined;
    await waitFor("the worker's client judged", async () => {
      const { clients } = await grid.admin.listClients({});
      const settled = worker !== undefined && clients.length === 1 && clients[0]!.trust === worker.trust;
      worker = clients[0];
      return settled && worker!.trust > 0n;
    }, 30_000);
    await page.click("nav >> text=Clients");
    const row = page.locator(`tr[data-client="${worker!.clientKey}"]`);
    await row.waitFor();
    expect(await row.locator("[data-trust]").innerText()).toBe(String(worker!.trust));
    expect(await row.innerText()).toContain(`${worker!.validated} ✓`);
    expect(await row.innerText()).toContain("e2e");
    expect(worker!.wrong).toBe(0n);
    await shot("clients");
  });

  it("adds a distributor (its token shown once) and drains one", async () => {
    await page.click("nav >> text=Distributors");
    const form = page.getByRole("form", { name: "add distributor" });
    await form.getByLabel("distributor name").fill("edge-2");
    await form.getByLabel("region").fill("eu-west");
    await form.locator("button[type=submit]").click();
    const token = await page.locator("[data-token]").innerText();
    expect(token.length).toBeGreaterThan(20);
    await page.locator("tr[data-distributor=edge-2]").waitFor();
    await shot("distributors-token");
    page.once("dialog", (dialog) => void dialog.accept());
    await page.locator("tr[data-distributor=e2e] >> text=Drain").click();
    await page.locator("tr[data-distributor=e2e] .badge", { hasText: "draining" }).waitFor();
    await shot("distributors");
    const { distributors } = await grid.admin.listDistributors({});
    expect(distributors.find((d) => d.name === "e2e")!.status).toBe(4);
  });

  it("shows visitors, and takes the token from #token= in a fresh tab; phone-sized pages stay readable", async () => {
    await page.click("nav >> text=Visitors");
    await page.locator("[data-advice]").waitFor();
    await shot("visitors");
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
    await phone.goto(`${grid.manager.url}/#token=${encodeURIComponent(grid.adminToken)}`);
    await phone.locator("tr[data-project=cubes]").waitFor();
    expect(phone.url()).not.toContain("token=");
    await shot("phone-projects", phone);
    await phone.click("tr[data-project=cubes] >> text=cubes");
    await phone.locator("[data-count=done]", { hasText: String(UNITS) }).waitFor();
    await shot("phone-project", phone);
    await phone.goto(`${grid.manager.url}/#/distributors`);
    await phone.locator("tr[data-distributor=e2e]").waitFor();
    await shot("phone-distributors", phone);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await phone.goto(`${grid.manager.url}/#/clients`);
    await phone.locator("tr[data-client]").waitFor();
    await shot("phone-clients", phone);
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await phone.close();
  });

  it("keeps working across a manager restart: reconnects by itself and shows what changed meanwhile", async () => {
    await page.click("nav >> text=Projects");
    await page.locator("tr[data-project=cubes]").waitFor();
    await grid.manager.stop("SIGKILL");
    await page.getByText("reconnecting…").waitFor();
    await grid.restartManager();
    await grid.admin.createProject({ name: "after-restart", programSource: "export default (x) => x;" });
    await page.getByText("live ·").waitFor({ timeout: 30_000 });
    await page.locator("tr[data-project=after-restart]").waitFor({ timeout: 30_000 });
    await shot("projects");
  }, 60_000);
});
