import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { Redis } from "ioredis";
import type { Logger } from "pino";
import type {
  DistributorStore,
  GivenCopy,
  LeasedCopy,
  Registration,
  RenewedLease,
  StoreChange,
  StoreCounts,
  StoredProgram,
  StoredResult,
  StoreResultsOutcome,
  TakeReadyRequest,
} from "../store.js";
import { MAX_SKIPPED_PER_TAKE } from "../store.js";
import { StoreChanges } from "../store-changes.js";
import { RedisKeys } from "./redis-keys.js";
import { runScript, type RedisScript } from "./redis-script.js";
import { scriptError } from "./script-error.js";
import { ensureAofDurability, waitAof, type AofDurability } from "./wait-aof.js";
import { ACK_RESULTS } from "./scripts/ack-results.js";
import { ADD_LEASED } from "./scripts/add-leased.js";
import { CLAIM_RESULTS } from "./scripts/claim-results.js";
import { DROP_COPIES } from "./scripts/drop-copies.js";
import { FORGET_ASSIGNMENTS } from "./scripts/forget-assignments.js";
import { JOIN_POOL } from "./scripts/join-pool.js";
import { RENEW_LEASES } from "./scripts/renew-leases.js";
import { REQUEUE_CLIENT } from "./scripts/requeue-client.js";
import { REQUEUE_EXPIRED } from "./scripts/requeue-expired.js";
import { STORE_RESULTS } from "./scripts/store-results.js";
import { TAKE_READY } from "./scripts/take-ready.js";
import { UNTAKE } from "./scripts/untake.js";
import { WAS_GIVEN } from "./scripts/was-given.js";

/** Version of the key layout (`RedisKeys`); a store written by another version is refused. */
export const REDIS_SCHEMA_VERSION = "1";

/** Options of {@link openRedisStore}. */
export interface RedisStoreOptions {
  /** `redis://[user:password@]host:port/db` (or `rediss://`). */
  url: string;
  /** Prefix of every key; processes sharing a prefix form a pool. Default `disio:`. */
  prefix?: string;
  /**
   * This process's name in the pool. A stable one (say `host:port`) lets a process restarted after
   * a kill hand its earlier life's given copies back at once; two live processes must never share
   * one. Default `<hostname>:<pid>:<random>` (a killed process's copies then return when its
   * liveness key expires).
   */
  instance?: string;
  /**
   * How long the instance counts as alive without renewing, ms: a killed instance's given copies
   * go back to ready this long after its death (or at their client lease end, if sooner). Renewed
   * every third of it. Default 10,000.
   */
  instanceTtlMs?: number;
  /** How long a batch of results handed to one instance's report loop is hidden from the others, ms. Default 30,000. */
  resultClaimMs?: number;
  /**
   * Acknowledge stored results only once Redis fsynced them to its AOF (WAITAOF; on Redis before
   * 7.2 the server must run `appendfsync always`, checked at open). Default false.
   */
  waitAof?: boolean;
  /** Longest wait for the AOF fsync of stored results, ms. Default 5,000. */
  waitAofTimeoutMs?: number;
  /** Logs connection errors (debug: store calls fail with them, and the store guard reports those). */
  log?: Logger;
}

/** Most copies with an ended client lease requeued per script call (keeps each call short). */
const REQUEUE_PAGE = 5_000;
/** Most assignments pruned per script call. */
const PRUNE_PAGE = 5_000;

function connect(url: string, log: Logger | undefined): Redis {
  const redis = new Redis(url, {
    // A store call fails fast while Redis is away (StoreUnavailableError) instead of queueing for long.
    maxRetriesPerRequest: 2,
    retryStrategy: (times) => Math.min(times * 100, 2_000),
    lazyConnect: true,
  });
  // Each reconnect attempt emits one; ioredis keeps reconnecting either way.
  redis.on("error", (error: Error) => log?.debug({ err: error.message }, "redis connection error"));
  return redis;
}

/**
 * Opens the distributor's store in Redis. Every atomic change is one Lua script (`scripts/`); every
 * key lives under `prefix` (`RedisKeys`). Several processes over one prefix form a pool: they share
 * the ready copies, the given copies' client leases and the result queue, and hear each other's
 * changes over pub/sub. Unlike SQLite it holds no mirror: every call is a round trip.
 */
export async function openRedisStore(options: RedisStoreOptions): Promise<DistributorStore> {
  const redis = connect(options.url, options.log);
  const subscriber = connect(options.url, options.log);
  try {
    await redis.connect();
    await subscriber.connect();
    const keys = new RedisKeys(options.prefix ?? "disio:");
    await redis.set(keys.key("version"), REDIS_SCHEMA_VERSION, "NX");
    const version = await redis.get(keys.key("version"));
    if (version !== REDIS_SCHEMA_VERSION) {
      throw new Error(`distributor store ${keys.prefix}* in Redis has schema version ${version}, this distributor speaks ${REDIS_SCHEMA_VERSION}`);
    }
    const durability = options.waitAof === true ? await ensureAofDurability(redis) : undefined;
    const store = new RedisStore(redis, subscriber, keys, options, durability);
    await store.start();
    return store;
  } catch (error) {
    redis.disconnect();
    subscriber.disconnect();
    throw error;
  }
}

class RedisStore implements DistributorStore {
  readonly #redis: Redis;
  readonly #subscriber: Redis;
  readonly #keys: RedisKeys;
  readonly #instance: string;
  readonly #common: readonly string[];
  readonly #ttlMs: number;
  readonly #claimMs: number;
  readonly #waitAof: { durability: AofDurability; timeoutMs: number } | undefined;
  readonly #changes = new StoreChanges();
  #alive: NodeJS.Timeout | undefined;

  constructor(redis: Redis, subscriber: Redis, keys: RedisKeys, options: RedisStoreOptions, durability: AofDurability | undefined) {
    this.#redis = redis;
    this.#subscriber = subscriber;
    this.#keys = keys;
    this.#instance = options.instance ?? `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
    this.#common = [keys.prefix, REDIS_SCHEMA_VERSION, this.#instance];
    this.#ttlMs = options.instanceTtlMs ?? 10_000;
    this.#claimMs = options.resultClaimMs ?? 30_000;
    this.#waitAof = durability === undefined ? undefined : { durability, timeoutMs: options.waitAofTimeoutMs ?? 5_000 };
  }

  async start(): Promise<void> {
    const channel = this.#keys.key("events");
    this.#subscriber.on("message", (from: string, message: string) => {
      if (from !== channel) return;
      const [kind, origin, ids] = message.split(" ");
      if (origin === this.#instance) return;
      if (kind === "ready" || kind === "results") this.#changes.emit({ kind });
      else if (kind === "dropped" && ids !== undefined) this.#changes.emit({ kind, copyIds: ids.split(",") });
    });
    await this.#subscriber.subscribe(channel);
    await this.#script(JOIN_POOL, [this.#instance, this.#ttlMs, 1]);
    // Re-joining, not just renewing the key: after a Redis outage longer than the TTL the others
    // may have ended this instance, and it must be back in the pool to be ended again if it dies.
    this.#alive = setInterval(() => {
      this.#script(JOIN_POOL, [this.#instance, this.#ttlMs, 0]).catch(() => undefined);
    }, Math.max(10, Math.floor(this.#ttlMs / 3)));
    this.#alive.unref();
  }

  onChange(listener: (change: StoreChange) => void): () => void {
    return this.#changes.listen(listener);
  }

  async addLeased(copies: readonly LeasedCopy[]): Promise<number> {
    if (copies.length === 0) return 0;
    const args: Array<string | number | Buffer> = [];
    for (const c of copies) args.push(c.copyId, c.unitId, c.projectId, c.priority, c.leaseDeadlineMs, c.renewAtMs, c.task.byteLength, Buffer.from(c.task.buffer, c.task.byteOffset, c.task.byteLength));
    const added = (await this.#script(ADD_LEASED, args)) as number;
    if (added > 0) this.#changes.emit({ kind: "ready" });
    return added;
  }

  async takeReady(request: TakeReadyRequest): Promise<GivenCopy[]> {
    if (request.max <= 0) return [];
    const skipCopy = request.skipCopy;
    if (skipCopy === undefined) return (await this.#take(request, request.max, [])).map((t) => t.copy);
    // The refusal is the caller's decision (it knows who holds which unit): take, ask, and put the
    // refused copies back in front, excluding them from the next take, as the SQLite store does.
    const out: GivenCopy[] = [];
    const refused = new Map<string, number>();
    while (out.length < request.max && refused.size < MAX_SKIPPED_PER_TAKE) {
      const taken = await this.#take(request, request.max - out.length, [...refused.keys()]);
      if (taken.length === 0) break;
      const back: Array<string | number> = [];
      for (const { copy, refusedSinceMs } of taken) {
        const since = refusedSinceMs ?? request.nowMs;
        if (skipCopy({ copyId: copy.copyId, unitId: copy.unitId, refusedSinceMs: since })) {
          refused.set(copy.copyId, since);
          back.unshift(copy.copyId, since);
        } else out.push(copy);
      }
      if (back.length > 0) await this.#script(UNTAKE, [request.clientId, ...back]);
    }
    return out;
  }

  /** One TAKE_READY call: up to `max` copies, none of `excluded`, each with when it was first refused. */
  async #take(request: TakeReadyRequest, max: number, excluded: readonly string[]): Promise<Array<{ copy: GivenCopy; refusedSinceMs: number | undefined }>> {
    const maxBytes = request.maxBytes === undefined || !Number.isFinite(request.maxBytes) ? -1 : request.maxBytes;
    const skipProjects = [...(request.skipProjects ?? [])];
    const reply = (await this.#script(TAKE_READY, [
      request.clientId,
      this.#instance,
      max,
      request.nowMs,
      request.clientDeadlineMs,
      maxBytes,
      skipProjects.length,
      ...skipProjects,
      ...excluded,
    ])) as Buffer[];
    const taken: Array<{ copy: GivenCopy; refusedSinceMs: number | undefined }> = [];
    for (let i = 0; i < reply.length; i += 5) {
      const refused = String(reply[i + 4]);
      taken.push({
        copy: {
          copyId: String(reply[i]),
          unitId: String(reply[i + 1]),
          projectId: String(reply[i + 2]),
          task: bytes(reply[i + 3] as Buffer),
          clientDeadlineMs: request.clientDeadlineMs,
        },
        refusedSinceMs: refused === "" ? undefined : Number(refused),
      });
    }
    return taken;
  }

  async requeueClient(clientId: string, copyIds: Iterable<string>): Promise<number> {
    const ids = [...copyIds];
    if (ids.length === 0) return 0;
    return this.#requeued((await this.#script(REQUEUE_CLIENT, [clientId, ...ids])) as number);
  }

  async requeueExpiredClientLeases(nowMs: number): Promise<number> {
    let total = 0;
    for (;;) {
      const requeued = (await this.#script(REQUEUE_EXPIRED, [nowMs, REQUEUE_PAGE])) as number;
      total += requeued;
      if (requeued < REQUEUE_PAGE) return this.#requeued(total);
    }
  }

  async wasGiven(clientId: string, copyIds: readonly string[]): Promise<Map<string, string>> {
    const given = new Map<string, string>();
    if (copyIds.length === 0) return given;
    const reply = (await this.#script(WAS_GIVEN, [clientId, ...copyIds])) as Buffer[];
    for (let i = 0; i < reply.length; i += 2) given.set(String(reply[i]), String(reply[i + 1]));
    return given;
  }

  async storeResults(results: readonly StoredResult[]): Promise<StoreResultsOutcome> {
    if (results.length === 0) return { accepted: 0, duplicates: 0 };
    const args: Array<string | number | Buffer> = [];
    for (const r of results) args.push(r.copyId, r.unitId, r.clientId, r.receivedAtMs, Buffer.from(r.result.buffer, r.result.byteOffset, r.result.byteLength));
    const accepted = (await this.#script(STORE_RESULTS, args)) as number;
    if (this.#waitAof !== undefined) await waitAof(this.#redis, this.#waitAof.durability, this.#waitAof.timeoutMs);
    if (accepted > 0) this.#changes.emit({ kind: "results" });
    return { accepted, duplicates: results.length - accepted };
  }

  async pendingResults(limit: number): Promise<StoredResult[]> {
    const reply = (await this.#script(CLAIM_RESULTS, [this.#instance, Date.now(), this.#claimMs, limit])) as Buffer[];
    const results: StoredResult[] = [];
    for (let i = 0; i < reply.length; i += 5) {
      results.push({
        copyId: String(reply[i]),
        unitId: String(reply[i + 1]),
        clientId: String(reply[i + 2]),
        receivedAtMs: Number(String(reply[i + 3])),
        result: bytes(reply[i + 4] as Buffer),
      });
    }
    return results;
  }

  async ackResults(copyIds: readonly string[]): Promise<number> {
    if (copyIds.length === 0) return 0;
    return (await this.#script(ACK_RESULTS, copyIds)) as number;
  }

  async knownCopyIds(limit: number): Promise<string[] | undefined> {
    const [held, results] = await Promise.all([this.#redis.zcard(this.#keys.key("renew")), this.#redis.zcard(this.#keys.key("results"))]);
    if (held + results > limit) return undefined;
    const [heldIds, resultIds] = await Promise.all([
      this.#redis.zrange(this.#keys.key("renew"), 0, "-1"),
      this.#redis.zrange(this.#keys.key("results"), 0, "-1"),
    ]);
    return [...heldIds, ...resultIds];
  }

  async dropCopies(which: { unitIds?: readonly string[]; copyIds?: readonly string[] }): Promise<number> {
    const copyIds = which.copyIds ?? [];
    const unitIds = which.unitIds ?? [];
    if (copyIds.length + unitIds.length === 0) return 0;
    const [dropped, ...given] = (await this.#script(DROP_COPIES, [copyIds.length, ...copyIds, ...unitIds])) as [number, ...Buffer[]];
    if (given.length > 0) this.#changes.emit({ kind: "dropped", copyIds: given.map(String) });
    return dropped;
  }

  async dueForRenewal(nowMs: number, limit: number): Promise<string[]> {
    return this.#redis.zrangebyscore(this.#keys.key("renew"), "-inf", nowMs, "LIMIT", 0, limit);
  }

  async renewLeases(renewed: readonly RenewedLease[]): Promise<void> {
    if (renewed.length === 0) return;
    await this.#script(RENEW_LEASES, renewed.flatMap((r) => [r.copyId, r.leaseDeadlineMs, r.renewAtMs]));
  }

  async forgetAssignments(copyIds: readonly string[]): Promise<number> {
    if (copyIds.length === 0) return 0;
    return (await this.#script(FORGET_ASSIGNMENTS, ["copies", ...copyIds])) as number;
  }

  async pruneAssignments(beforeMs: number): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = (await this.#script(FORGET_ASSIGNMENTS, ["before", beforeMs, PRUNE_PAGE])) as number;
      total += deleted;
      if (deleted < PRUNE_PAGE) return total;
    }
  }

  async counts(skipProjects?: ReadonlySet<string>): Promise<StoreCounts> {
    const skip = [...(skipProjects ?? [])];
    const [counts, paused] = await Promise.all([
      this.#redis.hmget(this.#keys.key("counts"), "held", "heldBytes", "ready", "results"),
      skip.length > 0 ? this.#redis.hmget(this.#keys.key("readyByProject"), ...skip) : Promise.resolve([]),
    ]);
    const [held, heldBytes, ready, results] = counts.map((value) => Number(value ?? 0)) as [number, number, number, number];
    const skipped = paused.reduce((sum, value) => sum + Number(value ?? 0), 0);
    return { held, heldBytes, ready: ready - skipped, given: held - ready, results };
  }

  async ensureSecret(generate: () => Uint8Array): Promise<Uint8Array> {
    const meta = this.#keys.key("meta");
    await this.#redis.hsetnx(meta, "secret", Buffer.from(generate()));
    return bytes((await this.#redis.hgetBuffer(meta, "secret")) as Buffer);
  }

  async loadRegistration(): Promise<Registration | undefined> {
    const stored = await this.#redis.hget(this.#keys.key("meta"), "registration");
    if (stored === null) return undefined;
    const parsed = JSON.parse(stored) as Omit<Registration, "managerPublicKey"> & { managerPublicKey: string };
    return { ...parsed, managerPublicKey: new Uint8Array(Buffer.from(parsed.managerPublicKey, "base64")) };
  }

  async saveRegistration(registration: Registration): Promise<void> {
    const json = JSON.stringify({ ...registration, managerPublicKey: Buffer.from(registration.managerPublicKey).toString("base64") });
    await this.#redis.hset(this.#keys.key("meta"), "registration", json);
  }

  async getProgram(hash: string): Promise<StoredProgram | undefined> {
    const stored = await this.#redis.get(this.#keys.of("program", hash));
    if (stored === null) return undefined;
    const parsed = JSON.parse(stored) as { source: string; signature: string };
    return { hash, source: parsed.source, signature: new Uint8Array(Buffer.from(parsed.signature, "base64")) };
  }

  async putProgram(program: StoredProgram): Promise<void> {
    const json = JSON.stringify({ source: program.source, signature: Buffer.from(program.signature).toString("base64") });
    await this.#redis.set(this.#keys.of("program", program.hash), json, "NX");
  }

  async otherProcesses(): Promise<number> {
    const others = (await this.#redis.smembers(this.#keys.key("instances"))).filter((instance) => instance !== this.#instance);
    if (others.length === 0) return 0;
    return this.#redis.exists(...others.map((instance) => this.#keys.of("alive", instance)));
  }

  async close(): Promise<void> {
    if (this.#alive === undefined) return;
    clearInterval(this.#alive);
    this.#alive = undefined;
    try {
      await this.#script(JOIN_POOL, [this.#instance, 0, 0]);
    } finally {
      this.#subscriber.disconnect();
      this.#redis.disconnect();
    }
  }

  #requeued(count: number): number {
    if (count > 0) this.#changes.emit({ kind: "ready" });
    return count;
  }

  async #script(script: RedisScript, args: ReadonlyArray<string | number | Buffer>): Promise<unknown> {
    if (this.#alive === undefined && script !== JOIN_POOL) throw new Error("redis store is closed");
    const reply = await runScript(this.#redis, script, this.#common, args);
    const error = scriptError(reply, script.name);
    if (error !== undefined) throw error;
    return reply;
  }
}

function bytes(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
