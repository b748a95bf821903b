import { pino } from "pino";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_IN_FLIGHT_MAX_BYTES,
  DEFAULT_METHOD_READ_MAX_BYTES,
  DEFAULT_READ_MAX_BYTES,
  DEFAULT_WRITE_MAX_BYTES,
  resolveServerOptions,
} from "./resolve-server-options.js";
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
    expect(o.inFlightMaxBytes).toBe(DEFAULT_IN_FLIGHT_MAX_BYTES);
    expect([o.http2IdleTimeoutMs, o.requestTimeoutMs, o.maxConnections, o.maxConnectionsPerAddress]).toEqual([60_000, 300_000, 10_000, 256]);
    expect(Object.fromEntries(o.methodReadMaxBytes)).toEqual(DEFAULT_METHOD_READ_MAX_BYTES);
    expect(o.methodReadMaxBytes.get("disio.v1.DistributorService/Join")).toBe(8 * 1024);
    expect(o.healthy()).toBe(true);
    expect(o.registry).toBeDefined();
  });

  it("merges per-method limits over the defaults", () => {
    const o = resolveServerOptions({ ...base, methodReadMaxBytes: { "disio.v1.DistributorService/Join": 100, "a.B/C": 5 } });
    expect(o.methodReadMaxBytes.get("disio.v1.DistributorService/Join")).toBe(100);
    expect(o.methodReadMaxBytes.get("a.B/C")).toBe(5);
    expect(o.methodReadMaxBytes.get("disio.v1.DistributorService/Work")).toBe(4 * 1024);
  });

  const bad: [string, Partial<ServerOptions>][] = [
    ["a negative port", { port: -1 }],
    ["a port above 65535", { port: 70000 }],
    ["a fractional port", { port: 1.5 }],
    ["readMaxBytes 0", { readMaxBytes: 0 }],
    ["writeMaxBytes above 4 GiB", { writeMaxBytes: 2 ** 33 }],
    ["a per-method limit of 0", { methodReadMaxBytes: { "a.B/C": 0 } }],
    ["a per-method key without a method", { methodReadMaxBytes: { "a.B": 10 } }],
    ["an in-flight budget below readMaxBytes", { readMaxBytes: 2048, inFlightMaxBytes: 1024 }],
    ["an in-flight budget below a per-method limit", { inFlightMaxBytes: 8 * 1024 - 1, readMaxBytes: 1024 }],
    ["an idle timeout of 0", { http2IdleTimeoutMs: 0 }],
    ["a fractional request timeout", { requestTimeoutMs: 1.5 }],
    ["maxConnections 0", { maxConnections: 0 }],
    ["a negative per-address cap", { maxConnectionsPerAddress: -1 }],
    ["two policies for one service", { policies: [{ service: "a.B" }, { service: "a.B" }] }],
    ["a static path without a leading slash", { staticRoutes: [{ path: "x.js", serve: () => undefined }] }],
  ];
  for (const [name, options] of bad) {
    it(`rejects ${name} with a TypeError`, () => {
      expect(() => resolveServerOptions({ ...base, ...options })).toThrow(TypeError);
    });
  }
});
