import { defineScript } from "../redis-script.js";

/**
 * Lease intake: adds copies leased from a manager as ready, skipping copies already held.
 *
 * KEYS: none (built from the prefix: see `RedisKeys`).
 * ARGV: per copy 8 values: copyId, unitId, projectId, priority, leaseDeadlineMs, renewAtMs, size, task.
 * Returns: the number of copies added; publishes `ready` when some were.
 */
export const ADD_LEASED = defineScript("addLeased", `
local added = 0
for i = 1, NARGS, 8 do
  local id = arg(i)
  if redis.call("EXISTS", KP.copy .. id) == 0 then
    local seq = redis.call("INCR", K.seq)
    local project, prio, size = arg(i + 2), tonumber(arg(i + 3)), tonumber(arg(i + 6))
    redis.call("HSET", KP.copy .. id, "unit", arg(i + 1), "project", project, "prio", prio, "seq", seq,
      "lease", arg(i + 4), "renew", arg(i + 5), "size", size, "task", arg(i + 7))
    redis.call("SADD", KP.unit .. arg(i + 1), id)
    redis.call("ZADD", K.renew, arg(i + 5), id)
    redis.call("HINCRBY", K.counts, "held", 1)
    redis.call("HINCRBY", K.counts, "heldBytes", size)
    markReady(id, project, prio, seq, false)
    added = added + 1
  end
end
if added > 0 then publish("ready") end
return added
`);
