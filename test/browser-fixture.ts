import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, request, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { fromBinary } from "@bufbuild/protobuf";
import { pino } from "pino";
import { chromium, type Browser, type Page } from "playwright-core";
import type { AdminService } from "../gen/disio/v1/admin_service_pb.js";
import type { Outcome } from "../gen/disio/v1/common_pb.js";
import { DistributorService, DistributorServiceReportRequestSchema, type DistributorServiceReportRequest } from "../gen/disio/v1/distributor_service_pb.js";
import { CHROMIUM_ARGS } from "../bench/chromium-args.js";
import { buildBrowserBundle } from "../client-browser/build-bundle.js";
import { createAdminClient } from "../cli/admin-client.js";
import { listAllResults } from "../cli/list-all-results.js";
import { startDistributor, type DistributorOptions, type RunningDistributor } from "../distributor/index.js";
import { startManager, type RunningManager } from "../manager/index.js";

/** The repository root (test/ is one level down). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
/** Where browser tests keep what a person should look at (screenshots); gitignored. */
export const ARTIFACTS = join(ROOT, "test-artifacts");


/** Debian's Chromium (`.ci/run` installs it when missing). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium", args: CHROMIUM_ARGS });
}

/** A plain web server for the embedding page, on its own origin; it records every request it gets. */
export interface HostSite {
  url: string;
  requests: { method: string; path: string; atMs: number }[];
  /** Serves `html` at `path`. */
  page(path: string, html: string): string;
  close(): Promise<void>;
}

export async function startHostSite(): Promise<HostSite> {
  const pages = new Map<string, string>();
  const requests: HostSite["requests"] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    requests.push({ method: req.method ?? "", path, atMs: Date.now() });
    const html = pages.get(path);
    res.writeHead(html === undefined ? 404 : 200, { "content-type": "text/html; charset=utf-8", "access-control-allow-origin": "*" });
    res.end(html ?? "not found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    page(path, html) {
      pages.set(path, html);
      return url + path;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A manager and a distributor in this process, on embedded stores in a temp folder, serving a freshly built client.js. */
export interface BrowserGrid {
  dir: string;
  manager: RunningManager;
  distributor: RunningDistributor;
  /** The distributor's log entries (pino JSON objects, debug level and up), in order. */
  distributorLog: Array<Record<string, unknown>>;
  admin: Client<typeof AdminService>;
  /** Creates a project and adds one unit per input; returns its id. */
  project(name: string, source: string, inputs: unknown[], settings?: { leaseTimeoutSeconds?: number; maxAttempts?: number }): Promise<string>;
  /** Every copy of every unit of a project (outcome, error text). */
  copies(projectId: string): Promise<{ unitId: string; outcome: Outcome; error: string }[]>;
  /** Clients with an open Work stream at the distributor (its GetInfo). */
  connectedClients(): Promise<number>;
  /** Every result of a project, input and output parsed. */
  results(projectId: string): Promise<{ unitId: string; input: unknown; output: unknown }[]>;
  close(): Promise<void>;
}

export async function startBrowserGrid(distributorOptions: Partial<DistributorOptions> = {}): Promise<BrowserGrid> {
  const dir = mkdtempSync(join(tmpdir(), "disio-browser-"));
  const log = pino({ level: process.env.DISIO_TEST_LOG ?? "silent" });
  const distributorLog: Array<Record<string, unknown>> = [];
  const echo = process.env.DISIO_TEST_LOG !== undefined;
  const recorder = pino(
    { level: "debug" },
    {
      write(line: string) {
        distributorLog.push(JSON.parse(line) as Record<string, unknown>);
        if (echo) process.stderr.write(line);
      },
    },
  );
  const assets = join(dir, "browser");
  mkdirSync(assets);
  await buildBrowserBundle({ root: ROOT, outDir: assets });
  const manager = await startManager({ port: 0, dataDir: join(dir, "manager"), log, startupLeaseGraceMs: 0 });
  const admin = createAdminClient({ manager: manager.url, token: manager.adminToken });
  const { token } = await admin.createDistributor({ name: "browser-test" });
  const distributor = await startDistributor({
    port: 0,
    managerUrls: [manager.url],
    token,
    dataDir: join(dir, "distributor"),
    log: recorder,
    browserAssetsDir: assets,
    ...distributorOptions,
  });
  const distributorClient = createClient(DistributorService, createConnectTransport({ baseUrl: distributor.url, httpVersion: "1.1" }));
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  return {
    dir,
    manager,
    distributor,
    distributorLog,
    admin,
    async project(name, source, inputs, settings = {}) {
      const leaseTimeout = settings.leaseTimeoutSeconds === undefined ? undefined : { seconds: BigInt(settings.leaseTimeoutSeconds), nanos: 0 };
      const { project } = await admin.createProject({ name, programSource: source, leaseTimeout, maxAttempts: settings.maxAttempts });
      const projectId = project!.id;
      await admin.addUnits({ projectId, units: inputs.map((input) => ({ input: encoder.encode(JSON.stringify(input)) })) });
      return projectId;
    },
    async copies(projectId) {
      const { units } = await admin.listUnits({ projectId, pageSize: 1000 });
      const out: { unitId: string; outcome: Outcome; error: string }[] = [];
      for (const unit of units) {
        const { unit: full } = await admin.getUnit({ id: unit.id });
        for (const copy of full?.copies ?? []) out.push({ unitId: unit.id, outcome: copy.outcome, error: copy.error });
      }
      return out;
    },
    async connectedClients() {
      return (await distributorClient.getInfo({})).clients;
    },
    async results(projectId) {
      const out: { unitId: string; input: unknown; output: unknown }[] = [];
      for await (const result of listAllResults(admin, projectId)) {
        out.push({ unitId: result.unitId, input: JSON.parse(decoder.decode(result.input)), output: JSON.parse(decoder.decode(result.output)) });
      }
      return out;
    },
    async close() {
      await Promise.all([distributor.close({ graceMs: 500 }), manager.close({ graceMs: 500 })]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A relay in front of a distributor, on its own port: passes every request through (streams
 * included; a client's closed connection closes the upstream one), except Report calls whose
 * decoded body `hold` picks: those are never forwarded nor answered, as if stuck on the network,
 * and are listed in `held`.
 */
export interface ReportRelay {
  url: string;
  held: DistributorServiceReportRequest[];
  close(): Promise<void>;
}

export async function startReportRelay(targetUrl: string, hold: (report: DistributorServiceReportRequest) => boolean): Promise<ReportRelay> {
  const target = new URL(targetUrl);
  const held: DistributorServiceReportRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      if (req.method === "POST" && req.url?.endsWith("/Report") === true) {
        const report = fromBinary(DistributorServiceReportRequestSchema, new Uint8Array(body));
        if (hold(report)) {
          held.push(report);
          return;
        }
      }
      const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on("error", () => res.destroy());
      res.on("close", () => upstream.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** The embed tag of a distributor, with `data-*` attributes. */
export function embedTag(distributorUrl: string, data: Record<string, string> = {}): string {
  const attrs = Object.entries(data)
    .map(([name, value]) => ` data-${name}="${value}"`)
    .join("");
  return `<script src="${distributorUrl}/client.js"${attrs} async></script>`;
}

/** A minimal host page embedding the client. */
export function hostPage(distributorUrl: string, data: Record<string, string> = {}): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>host</title></head><body><h1>A site</h1>${embedTag(distributorUrl, data)}</body></html>`;
}

/** `window.disio.stats()` of a page (undefined until client.js ran). */
export function pageStats(page: Page): Promise<{ state: string; tasksDone: number; tasksFailed: number; unitsPerSecond: number; threads: number; projectIds: string[]; distributor: string } | undefined> {
  return page.evaluate(() => (window as unknown as { disio?: { stats(): never } }).disio?.stats());
}

/** Polls `condition` until it holds (rejects after `timeoutMs`, a safety net, not a budget). */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 60_000, what = "condition"): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
