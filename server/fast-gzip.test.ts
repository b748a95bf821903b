import { compressionGzip } from "@connectrpc/connect-node";
import { describe, expect, it } from "vitest";
import { compressionFastGzip } from "./fast-gzip.js";

describe("compressionFastGzip", () => {
  const page = new TextEncoder().encode(Array.from({ length: 2000 }, (_, i) => `{"i":${i}} u${i.toString(36)}`).join("\n"));

  it("writes gzip that connect's gzip reads back, marked as compressed at the fastest level", async () => {
    const compressed = await compressionFastGzip.compress(page);
    expect(compressionFastGzip.name).toBe("gzip");
    // RFC 1952 header: XFL (byte 8) is 4 when the compressor used the fastest algorithm.
    expect(compressed[8]).toBe(4);
    expect(compressed.length).toBeLessThan(page.length / 2);
    expect(new Uint8Array(await compressionGzip.decompress(compressed, page.length))).toEqual(page);
    expect(new Uint8Array(await compressionFastGzip.decompress(await compressionGzip.compress(page), page.length))).toEqual(page);
  });
});
