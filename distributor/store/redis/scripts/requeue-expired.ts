import { defineScript } from "../redis-script.js";

/**
 * Puts back to ready the copies whose client lease ended, and every copy given by an instance of
 * the pool that stopped renewing its liveness key (killed: its clients' streams are gone with it).
 *
 * KEYS: none (built from the prefix: see `RedisKeys`).
 * ARGV: nowMs, limit (most copies with an ended lease per call).
 * Returns: the number requeued; publishes `ready` when some were.
 */
export const REQUEUE_EXPIRED = defineScript("requeueExpiredClientLeases", `
local now, limit = arg(1), tonumber(arg(2))
local requeued = 0
for _, id in ipairs(redis.call("ZRANGEBYSCORE", K.leases, "-inf", now, "LIMIT", 0, limit)) do
  requeued = requeued + requeue(id)
end
for _, inst in ipairs(redis.call("SMEMBERS", K.instances)) do
  if redis.call("EXISTS", KP.alive .. inst) == 0 then
    for _, id in ipairs(redis.call("SMEMBERS", KP.given .. inst)) do requeued = requeued + requeue(id) end
    redis.call("DEL", KP.given .. inst)
    redis.call("SREM", K.instances, inst)
  end
end
if requeued > 0 then publish("ready") end
return requeued
`);
