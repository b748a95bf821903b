import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { describe, it } from "vitest";
import { StoreHealth } from "../../core/store-health.js";
import { openManagerStore } from "./open-manager-store.js";
import { extraCopiesConformance } from "./extra-copies-conformance.js";
import { storeConformance, type StoreFactory } from "./store-conformance.js";
import type { ManagerStore } from "./store.js";
import { parseManagerStoreUrl } from "./store-url.js";

/**
 * The manager store conformance suite against every backend, each opened by its `--store` value
 * through the one factory (open-manager-store.ts), as a manager opens it. A backend that cannot
 * run here is skipped loudly, never counted as passing.
 */
function factoryFor(store: (test: string) => string): StoreFactory {
  const dirs = new Map<ManagerStore, { dir: string; url: string }>();
  const open = async (dir: string, url: string, random?: () => number) => {
    const opened = await openManagerStore({ store: url, dataDir: dir, health: new StoreHealth(), log: pino({ level: "silent" }), random });
    dirs.set(opened, { dir, url });
    return opened;
  };
  return {
    async create(options) {
      const dir = mkdtempSync(join(tmpdir(), "disio-store-"));
      return open(dir, store(dir), options?.random);
    },
    async reopen(opened) {
      const { dir, url } = dirs.get(opened)!;
      await opened.close();
      dirs.delete(opened);
      return open(dir, url);
    },
    async destroy(opened) {
      await opened.close();
      rmSync(dirs.get(opened)!.dir, { recursive: true, force: true });
      dirs.delete(opened);
    },
  };
}

storeConformance("sqlite", factoryFor(() => "sqlite"));
extraCopiesConformance("sqlite", factoryFor(() => "sqlite"));

/** A MongoDB URL with a database of its own for one test (`dir` is unique per test). */
function mongoDatabase(url: string, dir: string): string {
  const u = new URL(url);
  u.pathname = `/disio_conformance_${dir.slice(-6).replace(/\W/g, "_")}`;
  return u.toString();
}

const mongoUrl = process.env.MONGODB_URL;
const mongoSkipped = mongoUrl === undefined || mongoUrl === "" ? "MONGODB_URL is not set" : notBuilt(mongoUrl);
if (mongoSkipped === undefined) {
  storeConformance("mongodb", factoryFor((dir) => mongoDatabase(mongoUrl!, dir)));
  extraCopiesConformance("mongodb", factoryFor((dir) => mongoDatabase(mongoUrl!, dir)));
} else {
  console.warn(`\n!!! SKIPPED: ManagerStore conformance on MongoDB: ${mongoSkipped} !!!\n`);
  describe.skip(`ManagerStore conformance: mongodb — SKIPPED (${mongoSkipped})`, () => {
    it("runs the whole suite against MongoDB", () => undefined);
  });
}

/** Why the backend `url` names cannot run, or undefined when it is built. */
function notBuilt(url: string): string | undefined {
  try {
    parseManagerStoreUrl(url);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
