import { describe, expect, it } from "vitest";
import { describeError, loadProgram, runUnit } from "./run-unit.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const json = (value: unknown) => ({ copyId: "c", input: encoder.encode(JSON.stringify(value)), inputEncoding: "json" as const, outputEncoding: "json" as const });

describe("runUnit", () => {
  it("decodes JSON input and encodes the output as UTF-8 JSON", async () => {
    const result = await runUnit(loadProgram("export default async (x) => ({ twice: x.n * 2, text: 'π' })"), json({ n: 21 }));
    expect(result.outcome.ok && decoder.decode(result.outcome.output)).toBe('{"twice":42,"text":"π"}');
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("hands bytes projects a Uint8Array and takes one back", async () => {
    const program = loadProgram("export default (bytes) => bytes.map((b) => b + 1)");
    const result = await runUnit(program, { copyId: "c", input: new Uint8Array([1, 2]), inputEncoding: "bytes", outputEncoding: "bytes" });
    expect(result.outcome.ok && [...result.outcome.output]).toEqual([2, 3]);
  });

  it.each([
    ["a thrown error", "export default () => { throw new RangeError('too far'); }", json(1), "throw", "RangeError: too far"],
    ["a thrown string", "export default () => { throw 'plain'; }", json(1), "throw", "plain"],
    ["a rejected promise", "export default async () => { throw new Error('late'); }", json(1), "throw", "Error: late"],
    ["undefined output", "export default () => undefined", json(1), "encoding", "the output is not JSON: got undefined"],
    ["a circular output", "export default () => { const a = {}; a.a = a; return a; }", json(1), "encoding", "the output is not JSON: TypeError"],
    ["a BigInt output", "export default () => 1n", json(1), "encoding", "the output is not JSON: TypeError"],
    ["no default export", "export const work = () => 1", json(1), "program", "the program has no default export function"],
    ["a syntax error", "export default () => {", json(1), "program", "SyntaxError"],
    ["input that is not JSON", "export default (x) => x", { ...json(1), input: encoder.encode("{nope") }, "encoding", "the input is not UTF-8 JSON"],
    [
      "a bytes project returning a string",
      "export default () => 'text'",
      { copyId: "c", input: new Uint8Array(), inputEncoding: "bytes" as const, outputEncoding: "bytes" as const },
      "encoding",
      "a bytes project must return a Uint8Array, got string",
    ],
  ])("reports %s as an error of kind %s", async (_name, source, task, kind, message) => {
    const program = loadProgram(source);
    program.catch(() => undefined);
    const result = await runUnit(program, task);
    expect(result.outcome.ok).toBe(false);
    if (!result.outcome.ok) {
      expect(result.outcome.kind).toBe(kind);
      expect(result.outcome.message).toContain(message);
    }
  });

  it("reports a task whose program never arrived", async () => {
    const result = await runUnit(undefined, json(1));
    expect(result.outcome).toEqual({ ok: false, kind: "program", message: "the program was not sent to this runner" });
  });
});

describe("describeError", () => {
  it("names the code and permission of a sandbox denial", () => {
    const error = Object.assign(new Error("Access to this API has been restricted"), { code: "ERR_ACCESS_DENIED", permission: "FileSystemWrite" });
    expect(describeError(error)).toBe("Error: Access to this API has been restricted (ERR_ACCESS_DENIED, FileSystemWrite)");
  });
});
