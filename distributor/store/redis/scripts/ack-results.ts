import { defineScript } from "../redis-script.js";

/**
 * Deletes results a manager acknowledged.
 *
 * KEYS: none (built from the prefix: see `RedisKeys`).
 * ARGV: copy ids.
 * Returns: the number deleted.
 */
export const ACK_RESULTS = defineScript("ackResults", `
local deleted = 0
for i = 1, NARGS do
  local owner = redis.call("HGET", KP.result .. arg(i), "owner")
  if owner then redis.call("SREM", KP.claims .. owner, arg(i)) end
  deleted = deleted + redis.call("DEL", KP.result .. arg(i))
  redis.call("ZREM", K.results, arg(i))
end
redis.call("HINCRBY", K.counts, "results", -deleted)
return deleted
`);
