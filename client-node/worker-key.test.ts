import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadOrCreateWorkerKey, WORKER_KEY_FILE } from "./worker-key.js";

describe("loadOrCreateWorkerKey", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });
  async function home(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "disio-home-"));
    dirs.push(dir);
    return join(dir, ".disio");
  }

  it("makes a key on first use, private to its owner, and returns the same one afterwards", async () => {
    const dir = await home();
    const key = loadOrCreateWorkerKey(dir);
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(loadOrCreateWorkerKey(dir)).toBe(key);
    expect((await readFile(join(dir, WORKER_KEY_FILE), "utf8")).trim()).toBe(key);
    expect((await stat(join(dir, WORKER_KEY_FILE))).mode & 0o777).toBe(0o600);
  });
  it("gives two homes two keys", async () => {
    expect(loadOrCreateWorkerKey(await home())).not.toBe(loadOrCreateWorkerKey(await home()));
  });
  it("refuses a damaged key file rather than joining as someone else", async () => {
    const dir = await home();
    loadOrCreateWorkerKey(dir);
    await writeFile(join(dir, WORKER_KEY_FILE), "short\n");
    expect(() => loadOrCreateWorkerKey(dir)).toThrow(/not a client key/);
  });
});
