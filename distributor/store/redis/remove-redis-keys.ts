import { Redis } from "ioredis";
import { RedisKeys } from "./redis-keys.js";

/**
 * Deletes every key of the store under `prefix` (SCAN, then DEL in pages): how tests and
 * benchmarks remove the store they made. Resolves to the number of keys deleted.
 */
export async function removeRedisKeys(url: string, prefix: string): Promise<number> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  try {
    let deleted = 0;
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", new RedisKeys(prefix).pattern, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== "0");
    return deleted;
  } finally {
    redis.disconnect();
  }
}
