import { describe, expect, it } from "vitest";
import { resolveEmbedOptions } from "./embed-options.js";

const src = "http://dist.example:7200/client.js";

describe("resolveEmbedOptions", () => {
  it("defaults to the distributor client.js came from, cores - 1 threads, full CPU, pause when hidden, autostart", () => {
    expect(resolveEmbedOptions({}, src, 8)).toEqual({ distributor: "http://dist.example:7200", threads: 7, cpu: 1, pauseHidden: true, autostart: true });
    expect(resolveEmbedOptions({}, src, 1).threads).toBe(1);
    expect(resolveEmbedOptions({}, src, Number.NaN).threads).toBe(1);
  });

  it("reads every attribute", () => {
    expect(
      resolveEmbedOptions({ distributor: "https://other.example/base/", threads: "3", cpu: "0.25", pauseHidden: "false", autostart: "false", trust: " S2V5 " }, src, 8),
    ).toEqual({ distributor: "https://other.example/base", threads: 3, cpu: 0.25, pauseHidden: false, autostart: false, trust: "S2V5" });
  });

  it("clamps numbers and ignores nonsense", () => {
    const cases: [Record<string, string>, Partial<ReturnType<typeof resolveEmbedOptions>>][] = [
      [{ cpu: "0" }, { cpu: 0.1 }],
      [{ cpu: "7" }, { cpu: 1 }],
      [{ cpu: "lots" }, { cpu: 1 }],
      [{ threads: "0" }, { threads: 1 }],
      [{ threads: "1000" }, { threads: 64 }],
      [{ threads: "many" }, { threads: 3 }],
      [{ pauseHidden: "maybe" }, { pauseHidden: true }],
      [{ autostart: "" }, { autostart: true }],
      [{ autostart: "off" }, { autostart: false }],
    ];
    for (const [dataset, expected] of cases) expect(resolveEmbedOptions(dataset, src, 4)).toMatchObject(expected);
  });
});
