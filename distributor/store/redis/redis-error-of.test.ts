import { ReplyError } from "ioredis";
import { describe, expect, it } from "vitest";
import { StoreFullError, StoreUnavailableError } from "../../../core/errors.js";
import { redisErrorOf } from "./redis-error-of.js";

function networkError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });
}

describe("redisErrorOf", () => {
  const cases: Array<[string, unknown, unknown]> = [
    ["OOM reply", new ReplyError("OOM command not allowed when used memory > 'maxmemory'."), StoreFullError],
    ["loading", new ReplyError("LOADING Redis is loading the dataset in memory"), StoreUnavailableError],
    ["read-only replica", new ReplyError("READONLY You can't write against a read only replica."), StoreUnavailableError],
    ["cannot persist", new ReplyError("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk."), StoreUnavailableError],
    ["refused", networkError("ECONNREFUSED"), StoreUnavailableError],
    ["reset", networkError("ECONNRESET"), StoreUnavailableError],
    ["closed", new Error("Connection is closed."), StoreUnavailableError],
    ["retries", Object.assign(new Error("Reached the max retries per request limit (which is 2)."), { name: "MaxRetriesPerRequestError" }), StoreUnavailableError],
    ["script bug", new ReplyError("ERR user_script:1: attempt to compare nil with number"), undefined],
    ["wrong type", new ReplyError("WRONGTYPE Operation against a key holding the wrong kind of value"), undefined],
    ["not an error", "OOM", undefined],
  ];
  for (const [name, error, expected] of cases) {
    it(`classifies ${name}`, () => {
      const mapped = redisErrorOf(error);
      if (expected === undefined) expect(mapped).toBeUndefined();
      else {
        expect(mapped).toBeInstanceOf(expected);
        expect(mapped?.cause).toBe(error);
      }
    });
  }
});
