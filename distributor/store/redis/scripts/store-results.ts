import { defineScript } from "../redis-script.js";

/**
 * Stores clients' results, idempotent by copy id, and forgets their copies from the held set.
 *
 * KEYS: none (built from the prefix: see `RedisKeys`).
 * ARGV: per result 5 values: copyId, unitId, clientId, receivedAtMs, result.
 * Returns: the number stored for the first time; publishes `results` when some were.
 */
export const STORE_RESULTS = defineScript("storeResults", `
local accepted = 0
for i = 1, NARGS, 5 do
  local id = arg(i)
  if redis.call("EXISTS", KP.result .. id) == 0 then
    local seq = redis.call("INCR", K.seq)
    redis.call("HSET", KP.result .. id, "unit", arg(i + 1), "client", arg(i + 2), "at", arg(i + 3), "seq", seq, "result", arg(i + 4))
    redis.call("ZADD", K.results, seq, id)
    accepted = accepted + 1
  end
  forget(id)
end
redis.call("HINCRBY", K.counts, "results", accepted)
if accepted > 0 then publish("results") end
return accepted
`);
