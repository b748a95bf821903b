import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { DEFAULT_READ_MAX_BYTES, DEFAULT_WRITE_MAX_BYTES, resolveServerOptions } from "./resolve-server-options.js";
import type { ServerOptions } from "./server-options.js";

const base: ServerOptions = { routes: () => undefined, log: pino({ enabled: false }) };

describe("resolveServerOptions", () => {
  it("fills the defaults", () => {
    const o = resolveServerOptions(base);
    expect(o).toMatchObject({
      host: "127.0.0.1",
      port: 0,
      readMaxBytes: DEFAULT_READ_MAX_BYTES,
      writeMaxBytes: DEFAULT_WRITE_MAX_BYTES,
      policies: [],
      staticRoutes: [],
    });
    expect(o.healthy()).toBe(true);
    expect(o.registry).toBeDefined();
  });

  const bad: [string, Partial<ServerOptions>][] = [
    ["a negative port", { port: -1 }],
    ["a port above 65535", { port: 70000 }],
    ["a fractional port", { port: 1.5 }],
    ["readMaxBytes 0", { readMaxBytes: 0 }],
    ["writeMaxBytes above 4 GiB", { writeMaxBytes: 2 ** 33 }],
    ["two policies for one service", { policies: [{ service: "a.B" }, { service: "a.B" }] }],
    ["a static path without a leading slash", { staticRoutes: [{ path: "x.js", serve: () => undefined }] }],
  ];
  for (const [name, options] of bad) {
    it(`rejects ${name} with a TypeError`, () => {
      expect(() => resolveServerOptions({ ...base, ...options })).toThrow(TypeError);
    });
  }
});
