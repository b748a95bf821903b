import { defineScript } from "../redis-script.js";

/**
 * Puts back to ready those of a client's copies that are still given to it (a client gone, a
 * stream replaced, copies handed back).
 *
 * KEYS: none (built from the prefix: see `RedisKeys`).
 * ARGV: clientId, then copy ids.
 * Returns: the number requeued; publishes `ready` when some were.
 */
export const REQUEUE_CLIENT = defineScript("requeueClient", `
local client = arg(1)
local requeued = 0
for i = 2, NARGS do
  local id = arg(i)
  if redis.call("HGET", KP.copy .. id, "client") == client then requeued = requeued + requeue(id) end
end
if requeued > 0 then publish("ready") end
return requeued
`);
