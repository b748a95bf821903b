import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "./errors.js";
import { applyProjectUpdate, resolveProjectSettings, validateProgramSource, MAX_PROGRAM_BYTES } from "./project-settings.js";

describe("resolveProjectSettings", () => {
  it("fills defaults", () => {
    expect(resolveProjectSettings({ name: " pi " })).toEqual({
      name: "pi",
      inputEncoding: "json",
      outputEncoding: "json",
      replication: 1,
      quorum: 1,
      maxAttempts: 3,
      leaseTimeoutMs: 60_000,
      deadlineMs: undefined,
      priority: 0,
      adaptiveReplication: false,
      canaryRate: 0,
    });
    expect(resolveProjectSettings({ name: "x", replication: 3 }).maxAttempts).toBe(5);
  });

  const bad: Array<[string, Parameters<typeof resolveProjectSettings>[0], string]> = [
    ["empty name", { name: "  " }, "name"],
    ["canary rate above 1", { name: "x", canaryRate: 1.5 }, "canary_rate"],
    ["negative canary rate", { name: "x", canaryRate: -0.1 }, "canary_rate"],
    ["canary rate NaN", { name: "x", canaryRate: Number.NaN }, "canary_rate"],
    ["replication 0", { name: "x", replication: 0 }, "replication"],
    ["negative replication", { name: "x", replication: -1 }, "replication"],
    ["quorum 0", { name: "x", quorum: 0 }, "quorum"],
    ["quorum > replication", { name: "x", replication: 2, quorum: 3 }, "quorum"],
    ["max_attempts < replication", { name: "x", replication: 3, maxAttempts: 2 }, "max_attempts"],
    ["zero lease", { name: "x", leaseTimeoutMs: 0 }, "lease_timeout"],
    ["negative lease", { name: "x", leaseTimeoutMs: -5 }, "lease_timeout"],
    ["lease under 1 s", { name: "x", leaseTimeoutMs: 999 }, "lease_timeout"],
    ["lease over 7 days", { name: "x", leaseTimeoutMs: 8 * 24 * 3600 * 1000 }, "lease_timeout"],
    ["fractional replication", { name: "x", replication: 1.5 }, "replication"],
    ["bad encoding", { name: "x", inputEncoding: "xml" as never }, "input_encoding"],
  ];
  for (const [label, input, field] of bad) {
    it(`rejects ${label} naming ${field}`, () => {
      let caught: unknown;
      try {
        resolveProjectSettings(input);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(InvalidArgumentError);
      expect((caught as InvalidArgumentError).field).toBe(field);
    });
  }
});

describe("applyProjectUpdate", () => {
  const base = resolveProjectSettings({ name: "x", replication: 3, quorum: 2, deadlineMs: 1000 });
  it("keeps unset fields and validates the whole", () => {
    expect(applyProjectUpdate(base, { priority: 7 })).toEqual({ ...base, priority: 7 });
    expect(applyProjectUpdate(base, { clearDeadline: true }).deadlineMs).toBeUndefined();
    expect(() => applyProjectUpdate(base, { quorum: 4 })).toThrow(/quorum/);
    expect(() => applyProjectUpdate(base, { replication: 1 })).toThrow(/quorum/);
  });
  it("raises max_attempts with replication when not given", () => {
    expect(applyProjectUpdate(base, { replication: 9 }).maxAttempts).toBe(11);
    expect(applyProjectUpdate(base, { replication: 4 }).maxAttempts).toBe(5);
  });
});

describe("validateProgramSource", () => {
  it("rejects empty and oversized programs", () => {
    expect(() => validateProgramSource("  \n")).toThrow(InvalidArgumentError);
    expect(() => validateProgramSource("x".repeat(MAX_PROGRAM_BYTES + 1))).toThrow(/program_source/);
    expect(() => validateProgramSource("export default (x) => x")).not.toThrow();
  });
});
