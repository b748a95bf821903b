import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../core/errors.js";
import { checkProgram } from "./program-check.js";

describe("checkProgram", () => {
  it.each([
    ["export default async function work(input) { return input; }"],
    ["const twice = (x) => x * 2;\nexport default twice;"],
    ["import { createHash } from 'node:crypto';\nexport default (x) => createHash('sha256').update(String(x)).digest('hex');"],
  ])("accepts an ES module with a default export: %s", async (source) => {
    await expect(checkProgram(source)).resolves.toBeUndefined();
  });

  it.each([
    ["export default function work(input) {\n  return input +\n", /program_source: the program does not parse at line 3, column 1: Unexpected end of file/],
    ["module.exports = function work(input) { return input; };", /program_source: the program is a CommonJS module/],
    ["export function work(input) { return input; }", /program_source: the program has no default export \(it exports work\)/],
    ["const x = 1;", /program_source: the program has no default export;/],
  ])("refuses %j", async (source, message) => {
    const error = await checkProgram(source).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(message);
  });
});
