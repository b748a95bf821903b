import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGrid, type GridFixture } from "../bench/grid-fixture.js";

const run = promisify(execFile);
const root = resolve(import.meta.dirname, "..");

/** The sh block of README.md's "Calling the API from anywhere": the commands the README shows. */
function readmeBlock(): string {
  const readme = readFileSync(resolve(root, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Calling the API from anywhere"));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error("README.md: no sh block under \"Calling the API from anywhere\"");
  return block;
}

/** The JSON documents buf curl printed one after another (pretty-printed), in order. */
function jsonDocuments(text: string): any[] {
  return text.split(/\n(?=\{)/).filter((part) => part.trim().startsWith("{")).map((part) => JSON.parse(part));
}

describe("README: buf curl against a live manager", () => {
  let grid: GridFixture;
  beforeAll(async () => {
    grid = await startGrid(1, { prefix: "disio-buf-curl-" });
  }, 60_000);
  afterAll(() => grid?.close());

  it("runs every command the README shows: list services, create a project, add units, watch results to the end", async () => {
    const block = readmeBlock();
    expect(block.match(/^npx buf curl|^PROJECT=\$\(npx buf curl/gm)).toHaveLength(4);
    const env = { ...process.env, DISIO_MANAGER_URL: grid.manager.url, DISIO_ADMIN_TOKEN: grid.adminToken };
    const { stdout } = await run("bash", ["-euo", "pipefail", "-c", block], { cwd: root, env, timeout: 120_000 });
    const [services, ...documents] = stdout.split(/\n(?=\{)/);
    expect(services!.trim().split("\n")).toEqual(expect.arrayContaining(["disio.v1.AdminService", "disio.v1.ManagerService"]));
    const [added, ...batches] = jsonDocuments(documents.join("\n"));
    const { projects } = await grid.admin.listProjects({});
    const project = projects.find((p) => p.name === "curl-squares")!;
    expect(added.unitIds).toHaveLength(2);
    const results = batches.flatMap((batch) => batch.results ?? []);
    const decoded = results.map((r: { input: string; output: string }) => [atob(r.input), atob(r.output)]).sort();
    expect(decoded).toEqual([["2", "4"], ["3", "9"]]);
    expect(results.every((r: { projectId: string }) => r.projectId === project.id)).toBe(true);
    expect(batches.at(-1)).toMatchObject({ projectDone: true });
  }, 150_000);
});
