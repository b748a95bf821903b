import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, "..");
const buf = resolve(repoRoot, "node_modules/.bin/buf");

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe("contracts", () => {
  const out = mkdtempSync(join(tmpdir(), "disio-gen-"));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("gen/ is exactly what `buf generate` makes from proto/ (run `npm run generate` when this fails)", async () => {
    await run(buf, ["generate", "-o", out], { cwd: repoRoot });
    const fresh = join(out, "gen");
    const committed = join(repoRoot, "gen");
    const freshFiles = listFiles(fresh);
    const committedFiles = listFiles(committed);
    expect(freshFiles.length).toBeGreaterThan(0);
    expect(committedFiles, "gen/ holds other files than buf generate makes").toEqual(freshFiles);
    const stale = freshFiles.filter((f) => !readFileSync(join(fresh, f)).equals(readFileSync(join(committed, f))));
    expect(stale, `stale generated files: ${stale.map((f) => `gen/${f}`).join(", ")}`).toEqual([]);
  });

  it("`buf lint` is clean", async () => {
    const { stdout, stderr } = await run(buf, ["lint"], { cwd: repoRoot }).catch(
      (e: { stdout: string; stderr: string }) => ({ stdout: `FAILED\n${e.stdout}`, stderr: e.stderr }),
    );
    expect(stdout + stderr).toBe("");
  });
});
