import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Where the unit-runner entry lives and what it must be allowed to read. */
export interface UnitRunnerEntry {
  /** Absolute path of the compiled entry (`unit-runner-entry.js`). */
  file: string;
  /** Paths for `--allow-fs-read`: the entry's folder (its imports) and the package.json scoping it as ESM. */
  readPaths: string[];
}

/**
 * Finds the compiled unit-runner entry. Runners are plain `node` processes, which cannot load
 * TypeScript, so the entry is always the compiled JavaScript:
 * - in production this module is itself compiled (`dist/client-node/*.js`): the entry is its sibling;
 * - under vitest this module is the `.ts` source: the entry is `dist/client-node/unit-runner-entry.js`
 *   of the same checkout, so tests build first (`npm test` runs `npm run build`; the client-node
 *   tests rebuild when dist is stale).
 */
export function unitRunnerEntry(moduleUrl: string = import.meta.url): UnitRunnerEntry {
  const here = fileURLToPath(moduleUrl);
  const folder = here.endsWith(".js") ? dirname(here) : resolve(dirname(here), "..", "dist", "client-node");
  const file = join(folder, "unit-runner-entry.js");
  if (!existsSync(file)) throw new Error(`unit runner entry ${file} is missing: run \`npm run build\``);
  // dist/client-node/ → the package root's package.json ("type": "module") scopes the entry as ESM.
  const packageJson = resolve(folder, "..", "..", "package.json");
  return { file, readPaths: [`${folder}/*`, packageJson, resolve(folder, "..", "package.json"), resolve(folder, "package.json")] };
}
