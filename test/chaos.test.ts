import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import type { Verdict } from "../bench/chaos/verdict.js";
import { packageRoot } from "../cli/package-root.js";

const CHAOS = join(packageRoot(), "dist", "bench", "chaos.js");

const SCENARIOS = ["distributor-restart", "manager-restart", "frozen-worker", "error-client", "anonymous-flood"];

describe("the short chaos run (npm run chaos -- --short) over real processes", () => {
  it("loses and duplicates no unit, fails none for a lying client, and recovers from each disturbance", async () => {
    if (!existsSync(CHAOS)) throw new Error(`${CHAOS} is missing: run \`npm run build\` first (npm test does)`);
    const only = SCENARIOS.flatMap((name) => ["--only", name]);
    // Exit code 1 (a failing verdict) still prints the verdicts: read them rather than the exit.
    const { stdout } = await promisify(execFile)(process.execPath, [CHAOS, "--short", "--json", ...only], { maxBuffer: 1 << 20 }).catch(
      (error: { stdout?: string }) => ({ stdout: error.stdout ?? "" }),
    );
    const verdicts = JSON.parse(stdout) as Verdict[];
    expect(verdicts.map((v) => v.scenario)).toEqual(SCENARIOS);
    for (const verdict of verdicts.filter((v) => v.scenario !== "anonymous-flood")) {
      expect([verdict.scenario, verdict.lost, verdict.duplicates]).toEqual([verdict.scenario, 0, 0]);
      expect(verdict.longestStallS, verdict.scenario).toBeLessThan(30);
      expect(verdict.problems, verdict.scenario).toEqual([]);
    }
    const byName = new Map(verdicts.map((v) => [v.scenario, v]));
    expect(byName.get("error-client")!.failed).toBe(0);
    // Three heartbeats of 1 s and a sweep, not the 120 s client lease.
    expect(byName.get("frozen-worker")!.recoveryS).toBeLessThan(10);
    for (const name of ["distributor-restart", "manager-restart"]) expect(byName.get(name)!.recoveryS, name).toBeLessThan(15);
    // Bodies refused from their headers: neither server buffers the flood (1.9 GB sent).
    const flood = byName.get("anonymous-flood")!;
    expect(flood.problems).toEqual([]);
    expect(flood.healthy).toBe(true);
    expect(flood.requests).toEqual({ sent: 56, answered: 56, unanswered: 0, statuses: { "manager 401": 24, "distributor 429": 32 } });
  }, 240_000);
});
