import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { trustedKeysFile } from "./trusted-keys-file.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "disio-keys-"));
  dirs.push(dir);
  return join(dir, "state", "trusted-keys.json");
}

describe("trustedKeysFile", () => {
  it("starts empty, creates its folder and file private on the first key, and replaces a URL's key", async () => {
    const path = tempPath();
    const memory = trustedKeysFile(path);
    expect(await memory.load()).toEqual([]);
    await memory.remember({ distributorUrl: "http://a", groupId: "g", publicKey: "K1" });
    await memory.remember({ distributorUrl: "http://b", groupId: "g", publicKey: "K1" });
    await memory.remember({ distributorUrl: "http://a", groupId: "g", publicKey: "K2" });
    expect((await trustedKeysFile(path).load()).map(({ distributorUrl, publicKey }) => [distributorUrl, publicKey])).toEqual([
      ["http://b", "K1"],
      ["http://a", "K2"],
    ]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, "..")).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(path, "utf8")).keys[1].trustedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  const damaged: [string, string, RegExp][] = [
    ["not JSON", "{", /not JSON/],
    ["another format version", JSON.stringify({ version: 2, keys: [] }), /expected version 1/],
    ["an entry without a key", JSON.stringify({ version: 1, keys: [{ distributorUrl: "http://a", groupId: "" }] }), /entry 0 needs/],
  ];
  for (const [name, text, reason] of damaged) {
    it(`refuses a file that is ${name}, naming it`, async () => {
      const path = tempPath();
      await trustedKeysFile(path).remember({ distributorUrl: "http://a", groupId: "", publicKey: "K" });
      writeFileSync(path, text);
      await expect(trustedKeysFile(path).load()).rejects.toThrow(new RegExp(`^${path}.*${reason.source}.*fix or remove it`));
    });
  }
});
