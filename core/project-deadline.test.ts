import { describe, expect, it } from "vitest";
import { isPastDeadline } from "./project-deadline.js";

describe("isPastDeadline", () => {
  it("is past once the deadline is reached, never without one", () => {
    expect(isPastDeadline(100, 99)).toBe(false);
    expect(isPastDeadline(100, 100)).toBe(true);
    expect(isPastDeadline(100, 101)).toBe(true);
    expect(isPastDeadline(undefined, Number.MAX_SAFE_INTEGER)).toBe(false);
  });
});
