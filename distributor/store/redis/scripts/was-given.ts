import { defineScript } from "../redis-script.js";

/**
 * Reads which copies were ever given to a client (changes nothing).
 *
 * KEYS: none (built from the prefix: see `RedisKeys`).
 * ARGV: clientId, then copy ids.
 * Returns: per copy given to the client 2 values: copyId, unitId.
 */
export const WAS_GIVEN = defineScript("wasGiven", `
local client = arg(1)
local out = {}
for i = 2, NARGS do
  local unit = redis.call("HGET", KP.assigned .. arg(i), client)
  if unit then
    out[#out + 1] = arg(i)
    out[#out + 1] = unit
  end
end
return out
`);
