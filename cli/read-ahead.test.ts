import { describe, expect, it } from "vitest";
import { readAhead } from "./read-ahead.js";

describe("readAhead", () => {
  it("yields every item in order, asking for the next one before the consumer is done with the last", async () => {
    const asked: number[] = [];
    async function* source() {
      for (let i = 0; i < 3; i++) {
        asked.push(i);
        yield i;
      }
    }
    const seen: Array<[number, number[]]> = [];
    for await (const item of readAhead(source())) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      seen.push([item, [...asked]]);
    }
    expect(seen).toEqual([
      [0, [0, 1]],
      [1, [0, 1, 2]],
      [2, [0, 1, 2]],
    ]);
  });

  it("surfaces an error of the item read ahead when the consumer comes to it, and ends the source when the consumer stops", async () => {
    let closed = false;
    async function* source() {
      try {
        yield 1;
        throw new Error("line 2 is not JSON");
      } finally {
        closed = true;
      }
    }
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const item of readAhead(source())) seen.push(item);
      })(),
    ).rejects.toThrow("line 2 is not JSON");
    expect(seen).toEqual([1]);
    expect(closed).toBe(true);
  });
});
