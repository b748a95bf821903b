import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  buildRunnerIfStale,
  capturingLogger,
  errorOf,
  jsonTasks,
  makeKeys,
  outputOf,
  signedProgram,
  startConnectionCounter,
  startFakeDistributor,
  until,
  type Keys,
} from "../test/worker-fixture.js";
import { startWorker, type WorkerOptions } from "./index.js";

beforeAll(buildRunnerIfStale, 120_000);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const base64 = (keys: Keys) => Buffer.from(keys.publicKey).toString("base64");

/** A program that marks that it ran: it returns "ran" (and tries to reach `url`, counted there). */
function markerSource(url: string): string {
  return `export default async function work() { try { await fetch(${JSON.stringify(url)}); } catch {} return "ran"; }`;
}

async function tempKeysFile(entries?: { distributorUrl: string; groupId: string; publicKey: string }[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "disio-trust-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "trusted-keys.json");
  if (entries !== undefined) writeFileSync(file, JSON.stringify({ version: 1, keys: entries }));
  return file;
}

/** A fake distributor announcing `announced` and serving a marker program signed by `signer`, with tasks queued. */
async function fakeGrid(announced: Keys, signer: Keys, groupId = "") {
  const counter = await startConnectionCounter();
  cleanups.push(counter.close);
  const program = signedProgram(markerSource(counter.url), signer);
  const distributor = await startFakeDistributor({ announcedKey: announced.publicKey, groupId, programs: [program] });
  cleanups.push(distributor.close);
  distributor.state.queue.push(...jsonTasks(program, [1, 2, 3]));
  return { distributor, counter, program };
}

async function worker(options: Partial<WorkerOptions> & { distributorUrl: string }) {
  const capture = capturingLogger();
  const running = await startWorker({ workers: 1, heapLimitMb: 128, reportDelayMs: 10, log: capture.log, ...options });
  cleanups.push(() => running.stop({ graceMs: 200 }));
  return { running, lines: capture.lines };
}

describe("startWorker trusting manager keys", () => {
  it("refuses a distributor announcing another key than the one remembered for its URL, and runs nothing", async () => {
    const manager = makeKeys();
    const attacker = makeKeys();
    const { distributor, counter } = await fakeGrid(attacker, attacker, "group-of-the-attacker");
    const trustedKeysFile = await tempKeysFile([{ distributorUrl: distributor.url, groupId: "real-group", publicKey: base64(manager) }]);
    const { running } = await worker({ distributorUrl: distributor.url, trustedKeysFile });
    await expect(running.closed).rejects.toMatchObject({
      name: "TrustKeyMismatchError",
      source: "remembered",
      trustedKey: base64(manager),
      announcedKey: base64(attacker),
    });
    expect({ streams: distributor.state.workStreams, fetches: distributor.state.programFetches, reports: distributor.state.reportCalls.length }).toEqual({
      streams: 0,
      fetches: 0,
      reports: 0,
    });
    expect(counter.counter.connections).toBe(0);
    expect(JSON.parse(readFileSync(trustedKeysFile, "utf8")).keys).toEqual([
      expect.objectContaining({ distributorUrl: distributor.url, publicKey: base64(manager) }),
    ]);
  });

  it("with a pinned key, refuses a distributor announcing its own key and serving its own signed program", async () => {
    const manager = makeKeys();
    const attacker = makeKeys();
    const { distributor, counter } = await fakeGrid(attacker, attacker);
    const trustedKeysFile = await tempKeysFile();
    const { running } = await worker({ distributorUrl: distributor.url, trustKey: base64(manager), trustedKeysFile });
    await expect(running.closed).rejects.toMatchObject({ name: "TrustKeyMismatchError", source: "pinned", announcedKey: base64(attacker) });
    expect(distributor.state.programFetches).toBe(0);
    expect(distributor.state.reportCalls).toEqual([]);
    expect(counter.counter.connections).toBe(0);
  });

  it("on first contact trusts the announced key, remembers it and warns with the key", async () => {
    const manager = makeKeys();
    const { distributor } = await fakeGrid(manager, manager, "group-1");
    const trustedKeysFile = await tempKeysFile();
    const { running, lines } = await worker({ distributorUrl: distributor.url, trustedKeysFile });
    await until(() => running.stats().completed === 3);
    expect([...distributor.results().values()].map(outputOf)).toEqual(["ran", "ran", "ran"]);
    expect(JSON.parse(readFileSync(trustedKeysFile, "utf8")).keys).toEqual([
      expect.objectContaining({ distributorUrl: distributor.url, groupId: "group-1", publicKey: base64(manager) }),
    ]);
    const warning = lines.find((line) => line.level === 40 && line.publicKey === base64(manager));
    expect(warning?.msg).toMatch(/trusted on first use/);
  });

  it("accepts a rotated key when it is passed as the trust key, and remembers it from then on", async () => {
    const oldKey = makeKeys();
    const newKey = makeKeys();
    const { distributor } = await fakeGrid(newKey, newKey);
    const trustedKeysFile = await tempKeysFile([{ distributorUrl: distributor.url, groupId: "", publicKey: base64(oldKey) }]);
    const { running } = await worker({ distributorUrl: distributor.url, trustKey: base64(newKey), trustedKeysFile });
    await until(() => running.stats().completed === 3);
    expect(JSON.parse(readFileSync(trustedKeysFile, "utf8")).keys).toEqual([expect.objectContaining({ publicKey: base64(newKey) })]);
  });

  it("never runs a tampered program: a source that does not match its signed hash, or a hash that does not match its signature", async () => {
    const manager = makeKeys();
    const counter = await startConnectionCounter();
    cleanups.push(counter.close);
    const honest = signedProgram("export default function work(input) { return input; }", manager);
    const swappedSource = { ...honest, source: markerSource(counter.url) };
    const rehashed = { ...signedProgram(markerSource(counter.url), manager), signature: honest.signature };
    const distributor = await startFakeDistributor({ announcedKey: manager.publicKey, programs: [swappedSource, rehashed] });
    cleanups.push(distributor.close);
    distributor.state.queue.push(...jsonTasks(swappedSource, [1], "swapped"), ...jsonTasks(rehashed, [2], "rehashed"));
    const { running } = await worker({ distributorUrl: distributor.url, trustKey: base64(manager), trustedKeysFile: await tempKeysFile() });
    await until(() => running.stats().failed === 2);
    const results = distributor.results();
    expect([errorOf(results.get("swapped-0")), errorOf(results.get("rehashed-0"))]).toEqual([
      { kind: "program", message: `program ${honest.hash} failed signature verification` },
      { kind: "program", message: `program ${rehashed.hash} failed signature verification` },
    ]);
    expect(running.stats().completed).toBe(0);
    expect(counter.counter.connections).toBe(0);
  });
});
