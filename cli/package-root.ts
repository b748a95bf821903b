import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The folder holding dis.io's package.json, found by walking up from this file, so the CLI finds
 * `examples/` both from `dist/cli/` (installed) and from `cli/` (tests run the sources).
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) || !existsSync(join(dir, "examples"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("cannot find the dis.io package root (package.json with examples/)");
    dir = parent;
  }
  return dir;
}
