import { defineScript } from "../redis-script.js";

/**
 * Forgets assignments: every one of the listed copies (`byCopy`), or those made before a time.
 *
 * KEYS: none (built from the prefix: see `RedisKeys`).
 * ARGV: "copies" then copy ids; or "before", beforeMs, limit.
 * Returns: the number of assignments (copy, client) deleted.
 */
export const FORGET_ASSIGNMENTS = defineScript("forgetAssignments", `
local deleted = 0
if arg(1) == "copies" then
  for i = 2, NARGS do
    local id = arg(i)
    for _, client in ipairs(redis.call("HKEYS", KP.assigned .. id)) do
      redis.call("ZREM", K.assignedAt, id .. "\\n" .. client)
      deleted = deleted + 1
    end
    redis.call("DEL", KP.assigned .. id)
  end
  return deleted
end
for _, member in ipairs(redis.call("ZRANGEBYSCORE", K.assignedAt, "-inf", "(" .. arg(2), "LIMIT", 0, tonumber(arg(3)))) do
  local cut = string.find(member, "\\n", 1, true)
  redis.call("HDEL", KP.assigned .. string.sub(member, 1, cut - 1), string.sub(member, cut + 1))
  redis.call("ZREM", K.assignedAt, member)
  deleted = deleted + 1
end
return deleted
`);
