import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VERSION } from "../core/version.js";
import { ADMIN_TOKEN, startPortFixture, type PortFixture } from "./port-fixture.js";

const PYTHON = "/usr/bin/python3";
const script = resolve(import.meta.dirname, "python/get_info.py");

function runPython(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    execFile(PYTHON, [script, ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      ok({ code, stdout, stderr });
    });
  });
}

describe("a Python grpcio client (non-TypeScript gRPC)", () => {
  let fx: PortFixture;
  beforeAll(async () => {
    if (!existsSync(PYTHON)) throw new Error(`${PYTHON} not found: this test needs Debian's python3 with python3-grpcio`);
    fx = await startPortFixture();
  });
  afterAll(async () => {
    await fx?.server.close({ graceMs: 100 });
  });

  it("calls AdminService/GetInfo over h2c with a bearer token", async () => {
    const { code, stdout, stderr } = await runPython([`127.0.0.1:${fx.server.port}`, ADMIN_TOKEN]);
    if (code === 2) throw new Error(`python grpcio is not installed (.ci/run installs python3-grpcio): ${stderr.trim()}`);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(stdout)).toEqual({ version: VERSION, manager_id: "admin" });
  });

  it("gets UNAUTHENTICATED with a wrong token", async () => {
    const { code, stdout, stderr } = await runPython([`127.0.0.1:${fx.server.port}`, "wrong"]);
    if (code === 2) throw new Error(`python grpcio is not installed (.ci/run installs python3-grpcio): ${stderr.trim()}`);
    expect(code).toBe(3);
    expect(JSON.parse(stdout)).toEqual({ code: "UNAUTHENTICATED", details: "token not accepted" });
  });
});
