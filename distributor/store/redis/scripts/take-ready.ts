import { defineScript } from "../redis-script.js";

/**
 * Gives ready copies to a client: from the project holding the earliest-leased ready copy (skipping
 * paused ones), the next by priority, requeued first, then oldest; stops at `max` copies or when
 * the next task would pass `maxBytes` (the first always goes). Each copy given is marked with its
 * client, client lease end and the giving instance, and its assignment recorded.
 * Copies listed as excluded stay where they are (the caller refused them for this client: see
 * `TakeReadyRequest.skipCopy`) and the copies behind them are taken instead. A copy given loses its
 * `refused` mark (when a client was first refused it), which is returned so the caller can decide.
 *
 * KEYS: none (built from the prefix: see `RedisKeys`).
 * ARGV: clientId, instance, max, nowMs, clientDeadlineMs, maxBytes (-1: no limit), the number of
 * skipped projects, the skipped project ids, then the excluded copy ids.
 * Returns: per copy given 5 values: copyId, unitId, projectId, task, refused-since ("" when never).
 */
export const TAKE_READY = defineScript("takeReady", `
local client, inst, max, now, deadline, maxBytes = arg(1), arg(2), tonumber(arg(3)), arg(4), arg(5), tonumber(arg(6))
local skip, excluded, nExcluded = {}, {}, 0
local nSkip = tonumber(arg(7))
for i = 8, 7 + nSkip do skip[arg(i)] = true end
for i = 8 + nSkip, NARGS do
  excluded[arg(i)] = true
  nExcluded = nExcluded + 1
end
local function eligible(id) return not excluded[id] end

local out, taken, bytes, full = {}, 0, 0, false
while taken < max and not full do
  local chosen, open = nil, 0
  for _, project in ipairs(redis.call("ZRANGE", K.projects, 0, -1)) do
    if not skip[project] then
      open = open + 1
      chosen = chosen or project
    end
  end
  if not chosen then break end
  -- With one project open, drain it in one read; else one copy, then rank the projects again.
  local goal = taken + (open == 1 and (max - taken) or 1)
  local members = redis.call("ZRANGE", KP.ready .. chosen, 0, goal - taken + nExcluded - 1)
  if #members == 0 then break end
  local before = taken
  for _, member in ipairs(members) do
    if taken >= goal then break end
    local id = string.sub(member, MEMBER_HEAD + 1)
    local c = redis.call("HMGET", KP.copy .. id, "unit", "size", "task", "refused")
    local size = tonumber(c[2])
    if maxBytes >= 0 and taken > 0 and bytes + size > maxBytes then
      full = true
      break
    end
    if eligible(id) then
      unmarkReady(id, chosen, member)
      redis.call("HSET", KP.copy .. id, "client", client, "cdl", deadline, "inst", inst)
      redis.call("HDEL", KP.copy .. id, "refused")
      redis.call("ZADD", K.leases, deadline, id)
      redis.call("SADD", KP.given .. inst, id)
      redis.call("HSET", KP.assigned .. id, client, c[1])
      redis.call("ZADD", K.assignedAt, now, id .. "\\n" .. client)
      out[#out + 1] = id
      out[#out + 1] = c[1]
      out[#out + 1] = chosen
      out[#out + 1] = c[3]
      out[#out + 1] = c[4] or ""
      taken = taken + 1
      bytes = bytes + size
    end
  end
  if taken == before and not full then break end
end
return out
`);
