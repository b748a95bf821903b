import { defineScript } from "../redis-script.js";

/**
 * Hands a batch of buffered results to one instance's report loop: the oldest results not claimed
 * by another live claim (its own claims first come again: a Report that failed is retried), each
 * claimed for `claimMs` so that the pool's other instances do not send them at the same time (a
 * killed instance's claims are freed when it is found dead, see `endInstance`).
 *
 * KEYS: none (built from the prefix: see `RedisKeys`).
 * ARGV: instance, nowMs, claimMs, limit.
 * Returns: per result 5 values: copyId, unitId, clientId, receivedAtMs, result.
 */
export const CLAIM_RESULTS = defineScript("pendingResults", `
local inst, now, claimMs, limit = arg(1), tonumber(arg(2)), tonumber(arg(3)), tonumber(arg(4))
local out, count, offset, page = {}, 0, 0, 1000
while count < limit do
  local ids = redis.call("ZRANGE", K.results, offset, offset + page - 1)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    local r = redis.call("HMGET", KP.result .. id, "owner", "until", "unit", "client", "at", "result")
    if r[1] == false or r[1] == inst or tonumber(r[2]) <= now then
      if r[1] and r[1] ~= inst then redis.call("SREM", KP.claims .. r[1], id) end
      redis.call("HSET", KP.result .. id, "owner", inst, "until", now + claimMs)
      redis.call("SADD", KP.claims .. inst, id)
      out[#out + 1] = id
      out[#out + 1] = r[3]
      out[#out + 1] = r[4]
      out[#out + 1] = r[5]
      out[#out + 1] = r[6]
      count = count + 1
      if count >= limit then break end
    end
  end
  offset = offset + page
end
return out
`);
