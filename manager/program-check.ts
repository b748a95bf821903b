import { build, type Message } from "esbuild";
import { InvalidArgumentError } from "../core/errors.js";

/**
 * Parses a program the way a client will load it and throws `InvalidArgumentError` (field
 * `field`) naming the problem: a syntax error (with its line and column), a CommonJS module, or an
 * ES module without a default export. Nothing is run: esbuild parses the source and reports its
 * module format and exports, so a broken program is refused when the project is created rather
 * than surfacing later as failed units. Imports are not resolved (a program may import what its
 * runtime provides).
 */
export async function checkProgram(source: string, field = "program_source"): Promise<void> {
  let format: string | undefined;
  let exports: string[];
  try {
    const result = await build({
      stdin: { contents: source, loader: "js", sourcefile: "program.js" },
      write: false,
      metafile: true,
      bundle: false,
      format: "esm",
      outfile: "program.out.js",
      logLevel: "silent",
    });
    format = result.metafile.inputs["program.js"]?.format;
    exports = Object.values(result.metafile.outputs)[0]?.exports ?? [];
  } catch (error) {
    const first = (error as { errors?: Message[] }).errors?.[0];
    if (first === undefined) throw error;
    const where = first.location ? ` at line ${first.location.line}, column ${first.location.column + 1}` : "";
    throw new InvalidArgumentError(field, `the program does not parse${where}: ${first.text}`, { cause: error });
  }
  if (format === "cjs") {
    throw new InvalidArgumentError(field, "the program is a CommonJS module (module.exports / require); write an ES module: export default async function work(input, ctx) { … }");
  }
  if (!exports.includes("default")) {
    const named = exports.length > 0 ? ` (it exports ${exports.join(", ")})` : "";
    throw new InvalidArgumentError(field, `the program has no default export${named}; export the work function: export default async function work(input, ctx) { … }`);
  }
}
