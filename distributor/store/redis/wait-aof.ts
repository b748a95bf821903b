import type { Redis } from "ioredis";
import { StoreUnavailableError } from "../../../core/errors.js";

/**
 * How the store makes sure stored results are fsynced before it acknowledges them: `waitaof` asks
 * Redis (≥ 7.2) to confirm the local AOF fsync; `fsync-always` relies on `appendfsync always`
 * (Redis fsyncs each write before replying), for servers without WAITAOF.
 */
export type AofDurability = "waitaof" | "fsync-always";

/**
 * Checks at open that the server can guarantee fsynced results: WAITAOF exists (and the AOF is on),
 * or the server runs `appendonly yes` with `appendfsync always`. Throws a `TypeError` naming the
 * setting otherwise: `--redis-wait-aof` over a server that cannot keep the promise is a
 * configuration error, not something to discover after a crash.
 */
export async function ensureAofDurability(redis: Redis): Promise<AofDurability> {
  const appendonly = ((await redis.call("CONFIG", "GET", "appendonly")) as string[])[1];
  if (appendonly !== "yes") throw new TypeError("--redis-wait-aof needs the Redis server to run with appendonly yes");
  const [info] = (await redis.call("COMMAND", "INFO", "WAITAOF")) as unknown[];
  if (info !== null && info !== undefined) return "waitaof";
  const appendfsync = ((await redis.call("CONFIG", "GET", "appendfsync")) as string[])[1];
  if (appendfsync === "always") return "fsync-always";
  throw new TypeError(`--redis-wait-aof: this Redis has no WAITAOF (before 7.2) and runs appendfsync ${appendfsync}; use Redis ≥ 7.2 or appendfsync always`);
}

/**
 * Waits until Redis fsynced every write of this connection so far to its local AOF
 * (`WAITAOF 1 0 timeoutMs`); `fsync-always` servers did so before replying. A timeout throws
 * {@link StoreUnavailableError}: the results are stored but not yet known safe, so the client is
 * not acknowledged and reports them again (storing is idempotent).
 */
export async function waitAof(redis: Redis, durability: AofDurability, timeoutMs: number): Promise<void> {
  if (durability === "fsync-always") return;
  const [local] = (await redis.call("WAITAOF", 1, 0, timeoutMs)) as [number, number];
  if (local < 1) throw new StoreUnavailableError(`AOF fsync not confirmed within ${timeoutMs} ms`);
}
