import { defineScript } from "../redis-script.js";

/**
 * Joins (on open) or leaves (on close) the pool of processes over the store. Joining marks the
 * instance alive for `ttlMs` (renewed by the store while it runs); leaving puts every copy the
 * instance gave back to ready (its clients' streams end with it), frees the results it claimed for
 * a Report, and forgets it.
 *
 * KEYS: none (built from the prefix: see `RedisKeys`).
 * ARGV: instance, ttlMs (0: leave).
 * Returns: the number of copies requeued (0 on joining); publishes `ready` when some were.
 */
export const JOIN_POOL = defineScript("joinPool", `
local inst, ttl = arg(1), tonumber(arg(2))
if ttl > 0 then
  redis.call("SADD", K.instances, inst)
  redis.call("SET", KP.alive .. inst, "1", "PX", ttl)
  return 0
end
return endInstance(inst)
`);
