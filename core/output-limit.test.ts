import { describe, expect, it } from "vitest";
import { limitOutput, MAX_OUTPUT_BYTES } from "./output-limit.js";

describe("limitOutput", () => {
  it("passes outputs up to the limit and errors alone", () => {
    const atLimit = { ok: true as const, output: new Uint8Array(MAX_OUTPUT_BYTES) };
    expect(limitOutput(atLimit)).toBe(atLimit);
    const error = { ok: false as const, kind: "throw" as const, message: "boom" };
    expect(limitOutput(error)).toBe(error);
  });

  it("turns a larger output into an encoding error naming its size and the limit", () => {
    expect(limitOutput({ ok: true, output: new Uint8Array(MAX_OUTPUT_BYTES + 1) })).toEqual({
      ok: false,
      kind: "encoding",
      message: `the output is ${MAX_OUTPUT_BYTES + 1} bytes, more than the limit of ${MAX_OUTPUT_BYTES}`,
    });
  });
});
