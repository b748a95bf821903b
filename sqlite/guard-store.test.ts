import Database from "better-sqlite3";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { StoreFullError, StoreUnavailableError } from "../core/errors.js";
import { StoreHealth } from "../core/store-health.js";
import { guardStore } from "./guard-store.js";
import { storageErrorOf } from "./storage-error.js";

const log = pino({ level: "silent" });

describe("storageErrorOf", () => {
  it.each([
    ["SQLITE_FULL", "database or disk is full", StoreFullError, "resource_exhausted", "store full: database or disk is full"],
    ["SQLITE_IOERR", "disk I/O error", StoreUnavailableError, "unavailable", "store unavailable: disk I/O error"],
    ["SQLITE_IOERR_WRITE", "disk I/O error", StoreUnavailableError, "unavailable", "store unavailable: disk I/O error"],
    ["SQLITE_BUSY", "database is locked", StoreUnavailableError, "unavailable", "store unavailable: database is locked"],
    ["SQLITE_BUSY_SNAPSHOT", "database is locked", StoreUnavailableError, "unavailable", "store unavailable: database is locked"],
    ["SQLITE_LOCKED", "database table is locked", StoreUnavailableError, "unavailable", "store unavailable: database table is locked"],
    ["SQLITE_READONLY", "attempt to write a readonly database", StoreUnavailableError, "unavailable", "store unavailable: attempt to write a readonly database"],
    ["SQLITE_CANTOPEN", "unable to open database file", StoreUnavailableError, "unavailable", "store unavailable: unable to open database file"],
  ])("%s → %s", (code, message, kind, domainCode, domainMessage) => {
    const cause = new Database.SqliteError(message, code);
    const error = storageErrorOf(cause);
    expect(error).toBeInstanceOf(kind);
    expect(error?.code).toBe(domainCode);
    expect(error?.message).toBe(domainMessage);
    expect(error?.cause).toBe(cause);
  });

  it.each([
    ["a constraint", new Database.SqliteError("UNIQUE constraint failed: t.id", "SQLITE_CONSTRAINT_PRIMARYKEY")],
    ["a corrupt file", new Database.SqliteError("database disk image is malformed", "SQLITE_CORRUPT")],
    ["a syntax error", new Database.SqliteError('near "SELEC": syntax error', "SQLITE_ERROR")],
    ["a plain error", new Error("SQLITE_FULL")],
    ["a non-error", "database or disk is full"],
  ])("leaves %s alone", (_what, error) => {
    expect(storageErrorOf(error)).toBeUndefined();
  });
});

/** A tiny store on a real database, with a private field as the real stores have. */
class RowStore {
  readonly kind = "rows";
  readonly #db: Database.Database;
  constructor(db: Database.Database) {
    this.#db = db;
    db.exec("CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, body BLOB)");
  }
  async add(bytes: number): Promise<void> {
    this.#db.prepare("INSERT INTO rows (body) VALUES (?)").run(Buffer.alloc(bytes));
  }
  async addTwice(id: number): Promise<void> {
    const insert = this.#db.prepare("INSERT INTO rows (id, body) VALUES (?, x'')");
    insert.run(id);
    insert.run(id);
  }
  async count(): Promise<number> {
    return this.#db.prepare("SELECT COUNT(*) FROM rows").pluck().get() as number;
  }
}

describe("guardStore", () => {
  it("turns a full database into StoreFullError, tracks health by writes only, and recovers when writes work", async () => {
    const db = new Database(":memory:");
    const health = new StoreHealth();
    let now = 1_000;
    const store = guardStore(new RowStore(db), { writes: ["add"], health, log, now: () => now });
    expect(store.kind).toBe("rows");
    await store.add(100);
    db.pragma(`max_page_count = ${db.pragma("page_count", { simple: true }) as number}`);

    const full = await store.add(64 * 1024).catch((error: unknown) => error);
    expect(full).toBeInstanceOf(StoreFullError);
    expect((full as StoreFullError).message).toBe("store full: database or disk is full");
    expect(health.status).toEqual({ healthy: false, reason: "store full: database or disk is full", sinceMs: 1_000 });

    // A read works on a full database but proves nothing about writes.
    now = 2_000;
    expect(await store.count()).toBe(1);
    expect(health.status.healthy).toBe(false);

    // A bug is not a storage failure: it passes through as it was and leaves the health alone.
    const bug = await store.addTwice(7).catch((error: unknown) => error);
    expect(bug).toBeInstanceOf(Database.SqliteError);
    expect((bug as InstanceType<typeof Database.SqliteError>).code).toBe("SQLITE_CONSTRAINT_PRIMARYKEY");
    expect(health.status.healthy).toBe(false);

    db.pragma("max_page_count = 1000000");
    now = 3_000;
    await store.add(64 * 1024);
    expect(health.status).toEqual({ healthy: true });
    // The first row, row 7 of the bug's first insert, and this one.
    expect(await store.count()).toBe(3);
    db.close();
  });
});
