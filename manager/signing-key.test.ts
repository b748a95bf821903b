import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { programHash, verifyProgram } from "../core/program-signature.js";
import { loadSigningKeyFile } from "./signing-key.js";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function file(name: string, content: string): string {
  dir ??= mkdtempSync(join(tmpdir(), "disio-signing-"));
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe("loadSigningKeyFile", () => {
  it("signs with an Ed25519 private key kept in a PEM file, and publishes its public half", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const signer = loadSigningKeyFile(file("key.pem", privateKey.export({ type: "pkcs8", format: "pem" }) as string));
    expect(signer.publicKeyBase64).toBe(Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url").toString("base64"));
    const source = "export default (x) => x";
    const hash = await programHash(source);
    expect(await verifyProgram({ hash, source, signature: signer.sign(hash) }, signer.publicKey)).toBe(true);
  });

  const bad: [string, () => string, RegExp][] = [
    ["a missing file", () => join(tmpdir(), "no-such-disio-key.pem"), /^signing key .*no-such-disio-key\.pem: no such file$/],
    ["a file that is not a key", () => file("junk.pem", "hello"), /^signing key .*junk\.pem is not a PEM private key/],
    ["a public key", () => file("public.pem", generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }) as string), /^signing key .*public\.pem is not a PEM private key/],
    ["an RSA key", () => file("rsa.pem", generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs8", format: "pem" }) as string), /^signing key .*rsa\.pem is an rsa key, not Ed25519/],
  ];
  for (const [name, path, message] of bad) {
    it(`refuses ${name} with a clear error`, () => {
      expect(() => loadSigningKeyFile(path())).toThrow(message);
    });
  }
});
