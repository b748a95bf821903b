/**
 * Lua functions shared by the scripts (prepended to each by `defineScript`). A held copy is a hash
 * `KP.copy .. id`; while ready it has `rk`, its member in its project's ready set; while given it
 * has `client`, `cdl` (client lease end) and `inst` (the instance that gave it).
 */
export const LUA_INCLUDES = `
-- Tells every process (ours included; it ignores its own origin) what changed.
local function publish(kind) redis.call("PUBLISH", K.events, kind .. " " .. ORIGIN) end

local function pad(n, width) return string.format("%0" .. width .. "d", n) end

-- Member of a ready copy in its project's ready set (all scores 0, ordered by member): priority,
-- highest first; requeued before fresh, the latest requeued first; fresh ones oldest first.
local function readyMember(prio, seq, front, id)
  local head = pad(2147483647 - prio, 10)
  if front then
    return head .. "0" .. pad(999999999999999 - redis.call("INCR", K.frontSeq), 15) .. id
  end
  return head .. "1" .. pad(seq, 15) .. id
end
local MEMBER_HEAD = 26

local function refreshProject(project)
  local first = redis.call("ZRANGE", KP.readySeq .. project, 0, 0, "WITHSCORES")
  if first[1] then redis.call("ZADD", K.projects, first[2], project) else redis.call("ZREM", K.projects, project) end
end

local function markReady(id, project, prio, seq, front)
  local member = readyMember(prio, seq, front, id)
  redis.call("HSET", KP.copy .. id, "rk", member)
  redis.call("ZADD", KP.ready .. project, 0, member)
  redis.call("ZADD", KP.readySeq .. project, seq, id)
  refreshProject(project)
  redis.call("HINCRBY", K.readyByProject, project, 1)
  redis.call("HINCRBY", K.counts, "ready", 1)
end

local function unmarkReady(id, project, member)
  redis.call("HDEL", KP.copy .. id, "rk")
  redis.call("ZREM", KP.ready .. project, member)
  redis.call("ZREM", KP.readySeq .. project, id)
  refreshProject(project)
  if redis.call("HINCRBY", K.readyByProject, project, -1) <= 0 then redis.call("HDEL", K.readyByProject, project) end
  redis.call("HINCRBY", K.counts, "ready", -1)
end

-- The copy leaves its client's hands (requeued, reported or dropped).
local function release(id, inst)
  redis.call("HDEL", KP.copy .. id, "client", "cdl", "inst")
  redis.call("ZREM", K.leases, id)
  if inst then redis.call("SREM", KP.given .. inst, id) end
end

-- A given copy back to ready, in front of fresh ones. Returns 1, or 0 when it is not given.
local function requeue(id)
  local c = redis.call("HMGET", KP.copy .. id, "project", "prio", "seq", "inst", "rk", "client")
  if not c[1] or c[5] or not c[6] then return 0 end
  release(id, c[4])
  markReady(id, c[1], tonumber(c[2]), tonumber(c[3]), true)
  return 1
end

-- Removes a held copy wherever it is (result stored, unit cancelled, lease lost). Returns 1 or 0.
local function forget(id)
  local c = redis.call("HMGET", KP.copy .. id, "project", "rk", "inst", "unit", "size")
  if not c[1] then return 0 end
  if c[2] then unmarkReady(id, c[1], c[2]) end
  release(id, c[3])
  redis.call("DEL", KP.copy .. id)
  redis.call("SREM", KP.unit .. c[4], id)
  redis.call("ZREM", K.renew, id)
  redis.call("HINCRBY", K.counts, "held", -1)
  redis.call("HINCRBY", K.counts, "heldBytes", -tonumber(c[5]))
  return 1
end

-- Ends an instance of the pool: its given copies back to ready, its claimed results free for others.
-- Returns the number of copies requeued.
local function endInstance(inst)
  local requeued = 0
  for _, id in ipairs(redis.call("SMEMBERS", KP.given .. inst)) do requeued = requeued + requeue(id) end
  for _, id in ipairs(redis.call("SMEMBERS", KP.claims .. inst)) do
    if redis.call("HGET", KP.result .. id, "owner") == inst then redis.call("HDEL", KP.result .. id, "owner", "until") end
  end
  redis.call("DEL", KP.given .. inst, KP.claims .. inst, KP.alive .. inst)
  redis.call("SREM", K.instances, inst)
  if requeued > 0 then publish("ready") end
  return requeued
end

-- Tells every process over the store (ours included; it ignores its own origin) what changed.
local function publish(kind) redis.call("PUBLISH", K.events, kind .. " " .. ORIGIN) end
`;
