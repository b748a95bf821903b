import { defineScript } from "../redis-script.js";

/**
 * Undoes takeReady for copies the caller then refused to this client (see
 * `TakeReadyRequest.skipCopy`): each goes back to ready in front of fresh copies, its assignment to
 * the client is forgotten (the client was never given it, so it may not report it), and it is
 * marked with when a client was first refused it. Give the copies in reverse order of taking so
 * they keep their order (the latest requeued goes first).
 *
 * KEYS: none (built from the prefix: see `RedisKeys`).
 * ARGV: clientId, then pairs of copy id and refused-since ms.
 * Returns: the number put back; publishes `ready` when some were.
 */
export const UNTAKE = defineScript("untake", `
local client = arg(1)
local back = 0
for i = 2, NARGS, 2 do
  local id, since = arg(i), arg(i + 1)
  if redis.call("HGET", KP.copy .. id, "client") == client then
    redis.call("HDEL", KP.assigned .. id, client)
    redis.call("ZREM", K.assignedAt, id .. "\\n" .. client)
    back = back + requeue(id)
    redis.call("HSET", KP.copy .. id, "refused", since)
  end
end
if back > 0 then publish("ready") end
return back
`);
