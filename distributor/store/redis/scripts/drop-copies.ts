import { defineScript } from "../redis-script.js";

/**
 * Drops held copies by unit (cancelled units) and by copy id (lost leases), wherever they are.
 *
 * KEYS: none (built from the prefix: see `RedisKeys`).
 * ARGV: the number n of copy ids, n copy ids, then unit ids.
 * Returns: the number of copies dropped, then the ids of those that were in clients' hands;
 * publishes those as `dropped <origin> <id,id,…>` (their clients should stop them).
 */
export const DROP_COPIES = defineScript("dropCopies", `
local n = tonumber(arg(1))
local out = { 0 }
local function drop(id)
  local given = redis.call("HEXISTS", KP.copy .. id, "client") == 1
  if forget(id) == 1 then
    out[1] = out[1] + 1
    if given then out[#out + 1] = id end
  end
end
for i = 2, n + 1 do drop(arg(i)) end
for i = n + 2, NARGS do
  for _, id in ipairs(redis.call("SMEMBERS", KP.unit .. arg(i))) do drop(id) end
end
if #out > 1 then redis.call("PUBLISH", K.events, "dropped " .. ORIGIN .. " " .. table.concat(out, ",", 2)) end
return out
`);
