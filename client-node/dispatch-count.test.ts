import { describe, expect, it } from "vitest";
import { dispatchCount } from "./dispatch-count.js";

const base = { outstanding: 0, queued: 0, totalOutstanding: 0, runners: 2, maxDepth: 1024 };

describe("dispatchCount", () => {
  it.each([
    ["nothing queued", { ...base, outstanding: 0, queued: 0 }, 0],
    ["no runner", { ...base, queued: 10, runners: 0 }, 0],
    ["an idle runner gets its half of the queue", { ...base, queued: 100 }, 50],
    ["at least two in hand", { ...base, queued: 1 }, 1],
    ["a busy runner above half its share waits", { ...base, outstanding: 40, queued: 20, totalOutstanding: 80 }, 0],
    ["a runner at half its share is topped up", { ...base, outstanding: 10, queued: 20, totalOutstanding: 20 }, 10],
    ["capped at maxDepth", { ...base, queued: 10_000, maxDepth: 256 }, 256],
  ])("%s", (_name, input, expected) => {
    expect(dispatchCount(input)).toBe(expected);
  });
});
