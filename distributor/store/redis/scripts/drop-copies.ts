import { defineScript } from "../redis-script.js";

/**
 * Drops held copies by unit (cancelled units) and by copy id (lost leases), wherever they are.
 *
 * KEYS: none (built from the prefix: see `RedisKeys`).
 * ARGV: the number n of copy ids, n copy ids, then unit ids.
 * Returns: the number of copies dropped.
 */
export const DROP_COPIES = defineScript("dropCopies", `
local n = tonumber(arg(1))
local dropped = 0
for i = 2, n + 1 do dropped = dropped + forget(arg(i)) end
for i = n + 2, NARGS do
  for _, id in ipairs(redis.call("SMEMBERS", KP.unit .. arg(i))) do dropped = dropped + forget(id) end
end
return dropped
`);
