import { defineScript } from "../redis-script.js";

/**
 * Puts back to ready the copies whose client lease ended, and ends every instance of the pool that
 * stopped renewing its liveness key (killed): the copies it gave go back to ready (its clients'
 * streams are gone with it) and the results it claimed are free for the others' report loops.
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
if requeued > 0 then publish("ready") end
for _, inst in ipairs(redis.call("SMEMBERS", K.instances)) do
  if redis.call("EXISTS", KP.alive .. inst) == 0 then requeued = requeued + endInstance(inst) end
end
return requeued
`);
