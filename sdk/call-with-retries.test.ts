import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { callWithRetries, isRetryable } from "./call-with-retries.js";

const backoff = { initialMs: 100, maxMs: 1_000, multiplier: 2, jitter: 0 };

/** A call failing with `codes` in turn, then answering "ok"; records the attempts it saw and the sleeps. */
function failing(...codes: Code[]) {
  const attempts: number[] = [];
  const sleeps: number[] = [];
  const call = async (attempt: number) => {
    attempts.push(attempt);
    const code = codes[attempt];
    if (code !== undefined) throw new ConnectError(`try ${attempt}`, code);
    return "ok";
  };
  return { call, attempts, sleeps, sleep: async (ms: number) => void sleeps.push(ms) };
}

describe("isRetryable", () => {
  const table: Array<[Code, boolean]> = [
    [Code.Unavailable, true],
    [Code.Aborted, true],
    [Code.DeadlineExceeded, true],
    [Code.Unknown, true],
    [Code.Internal, true],
    [Code.InvalidArgument, false],
    [Code.NotFound, false],
    [Code.AlreadyExists, false],
    [Code.FailedPrecondition, false],
    [Code.Unauthenticated, false],
    [Code.PermissionDenied, false],
    [Code.ResourceExhausted, false],
  ];
  for (const [code, retryable] of table) {
    it(`${retryable ? "retries" : "does not retry"} ${Code[code]}`, () => {
      expect(isRetryable(new ConnectError("x", code))).toBe(retryable);
    });
  }

  it("retries a plain network error (Connect reads it as Unknown)", () => {
    expect(isRetryable(new Error("socket hang up"))).toBe(true);
  });
});

describe("callWithRetries", () => {
  it("returns the first answer with attempt 0 when nothing fails", async () => {
    const f = failing();
    expect(await callWithRetries(f.call, { retries: 3, backoff, sleep: f.sleep })).toEqual({ value: "ok", attempt: 0 });
    expect(f.sleeps).toEqual([]);
  });

  it("retries transient failures with growing delays and says which attempt answered", async () => {
    const f = failing(Code.Unavailable, Code.Aborted);
    const retries: Array<[number, number]> = [];
    const answer = await callWithRetries(f.call, { retries: 3, backoff, sleep: f.sleep, onRetry: (_, retry, delayMs) => retries.push([retry, delayMs]) });
    expect(answer).toEqual({ value: "ok", attempt: 2 });
    expect(f.attempts).toEqual([0, 1, 2]);
    expect(f.sleeps).toEqual([100, 200]);
    expect(retries).toEqual([[1, 100], [2, 200]]);
  });

  it("gives up after `retries` retries with the last error", async () => {
    const f = failing(Code.Unavailable, Code.Unavailable, Code.Unavailable);
    await expect(callWithRetries(f.call, { retries: 2, backoff, sleep: f.sleep })).rejects.toThrow("try 2");
    expect(f.attempts).toEqual([0, 1, 2]);
  });

  it("throws a refused request at once", async () => {
    const f = failing(Code.InvalidArgument);
    await expect(callWithRetries(f.call, { retries: 5, backoff, sleep: f.sleep })).rejects.toThrow("try 0");
    expect(f.attempts).toEqual([0]);
    expect(f.sleeps).toEqual([]);
  });
});
