import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { RedisKeys } from "./redis-keys.js";
import { LUA_INCLUDES } from "./scripts/lua-includes.js";

/** A Lua script of the Redis store: its name (for errors and logs), full source and SHA-1. */
export interface RedisScript {
  /** The store operation it implements, e.g. `takeReady`. */
  readonly name: string;
  /** The full source sent to Redis. */
  readonly lua: string;
  /** SHA-1 of {@link lua}, for EVALSHA. */
  readonly sha: string;
}

/**
 * Every script runs with `ARGV[1]` the key prefix, `ARGV[2]` the schema version, `ARGV[3]` the
 * calling instance (the origin of its change events); its own arguments follow, read with `arg(i)`
 * (1-based). A script whose schema version differs from the store's returns -1 before it changes
 * anything (see `scriptError`).
 */
const COMMON = `
if redis.call("GET", K.version) ~= ARGV[2] then return -1 end
local ORIGIN = ARGV[3]
local NARGS = #ARGV - 3
local function arg(i) return ARGV[i + 3] end
`;

/**
 * A script from the body of one atomic state change (whose header comment names its KEYS, ARGV
 * and return value), preceded by the key preamble, the common prologue and the shared functions.
 */
export function defineScript(name: string, body: string): RedisScript {
  const lua = `${RedisKeys.luaPreamble()}${COMMON}${LUA_INCLUDES}\n${body}`;
  return { name, lua, sha: createHash("sha1").update(lua).digest("hex") };
}

/**
 * Runs a script by EVALSHA, loading it by EVAL when Redis does not know it (a first call, or a
 * Redis restarted without its script cache). Replies come as Buffers (tasks and results are binary).
 */
export async function runScript(redis: Redis, script: RedisScript, common: readonly string[], args: ReadonlyArray<string | Buffer | number>): Promise<unknown> {
  const rest = [0, ...common, ...args];
  try {
    return await redis.callBuffer("evalsha", [script.sha, ...rest]);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
    return redis.callBuffer("eval", [script.lua, ...rest]);
  }
}
