import { existsSync, readFileSync, statSync } from "node:fs";
import { extname, join, resolve } from "node:path";

/** A program as {@link loadProgramSource} takes it: a file or folder path, or ES module source. */
export type ProgramInput = string | { file: string } | { source: string };

/** Extensions esbuild bundles before upload: TypeScript always; a folder's entry whatever it is. */
const BUNDLED = new Set([".ts", ".mts", ".tsx", ".jsx"]);
/** Entry files looked for in a folder, in order. */
const FOLDER_ENTRIES = ["index.ts", "index.mts", "index.js", "index.mjs", "work.ts", "work.js"];

/**
 * The ES module source to upload for a program:
 * - `{ source }`, or a string that is not a path (it holds a newline or `export`): the source as is;
 * - a `.js`/`.mjs` file: its text as is (the manager checks it: ES module, default export);
 * - a `.ts` file, or a folder (entry `index.ts`, `index.js`, `work.ts` or `work.js`): bundled by
 *   esbuild into one ES module, its local imports inlined (`node:` imports stay imports).
 * Throws an `Error` naming the file when it cannot be read or bundled.
 */
export async function loadProgramSource(program: ProgramInput): Promise<string> {
  if (typeof program === "object" && "source" in program) return program.source;
  const path = typeof program === "object" ? program.file : program;
  if (typeof program === "string" && (/\n/.test(program) || /\bexport\b/.test(program)) && !existsSync(program)) return program;
  const full = resolve(path);
  if (!existsSync(full)) throw new Error(`cannot read program ${path}: no such file or folder`);
  if (statSync(full).isDirectory()) {
    const entry = FOLDER_ENTRIES.map((name) => join(full, name)).find((file) => existsSync(file));
    if (entry === undefined) throw new Error(`cannot find the program's entry in ${path}: expected one of ${FOLDER_ENTRIES.join(", ")}`);
    return bundle(entry, path);
  }
  if (BUNDLED.has(extname(full))) return bundle(full, path);
  return readFileSync(full, "utf8");
}

/** Bundles `entry` and its local imports into one ES module with esbuild (loaded on first use). */
async function bundle(entry: string, shown: string): Promise<string> {
  const { build } = await import("esbuild");
  try {
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      write: false,
      logLevel: "silent",
      external: ["node:*"],
      outfile: "program.js",
    });
    return result.outputFiles[0]!.text;
  } catch (error) {
    const first = (error as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors?.[0];
    if (first === undefined) throw error;
    const where = first.location ? ` (${first.location.file}:${first.location.line})` : "";
    throw new Error(`cannot bundle program ${shown}: ${first.text}${where}`, { cause: error });
  }
}
