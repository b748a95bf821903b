import { defineScript } from "../redis-script.js";

/**
 * Records renewed manager leases; copies no longer held are ignored.
 *
 * KEYS: none (built from the prefix: see `RedisKeys`).
 * ARGV: per lease 3 values: copyId, leaseDeadlineMs, renewAtMs.
 * Returns: the number recorded.
 */
export const RENEW_LEASES = defineScript("renewLeases", `
local renewed = 0
for i = 1, NARGS, 3 do
  local id = arg(i)
  if redis.call("EXISTS", KP.copy .. id) == 1 then
    redis.call("HSET", KP.copy .. id, "lease", arg(i + 1), "renew", arg(i + 2))
    redis.call("ZADD", K.renew, arg(i + 2), id)
    renewed = renewed + 1
  end
end
return renewed
`);
