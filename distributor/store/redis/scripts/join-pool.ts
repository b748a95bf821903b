import { defineScript } from "../redis-script.js";

/**
 * Joins (on open, and again to renew) or leaves (on close) the pool of processes over the store.
 * Joining marks the instance alive for `ttlMs`; a first join (`restart` 1) under a name that still
 * gave copies is a restart after a kill, so that earlier life is ended first. Leaving puts every copy the
 * instance gave back to ready (its clients' streams end with it), frees the results it claimed for
 * a Report, and forgets it.
 *
 * KEYS: none (built from the prefix: see `RedisKeys`).
 * ARGV: instance, ttlMs (0: leave), restart (1 on the first join of a process).
 * Returns: the number of copies requeued; publishes `ready` when some were.
 */
export const JOIN_POOL = defineScript("joinPool", `
local inst, ttl, restart = arg(1), tonumber(arg(2)), arg(3) == "1"
if ttl > 0 then
  local requeued = 0
  if restart then requeued = endInstance(inst) end
  redis.call("SADD", K.instances, inst)
  redis.call("SET", KP.alive .. inst, "1", "PX", ttl)
  return requeued
end
return endInstance(inst)
`);
