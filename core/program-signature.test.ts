import { generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { programHash, programSignatureMessage, verifyProgram } from "./program-signature.js";

describe("verifyProgram", () => {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = new Uint8Array(publicKey.export({ format: "der", type: "spki" }).subarray(-32));
  const source = "export default (x) => x;";

  async function signed(text: string) {
    const hash = await programHash(text);
    return { hash, source: text, signature: new Uint8Array(sign(null, programSignatureMessage(hash), privateKey)) };
  }

  it("hashes with SHA-256 in lower-case hex", async () => {
    expect(await programHash("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
  it("accepts a program signed by the key", async () => expect(await verifyProgram(await signed(source), raw)).toBe(true));
  it("rejects a changed source", async () => expect(await verifyProgram({ ...(await signed(source)), source: source + " " }, raw)).toBe(false));
  it("rejects another key", async () => {
    const other = generateKeyPairSync("ed25519").publicKey.export({ format: "der", type: "spki" }).subarray(-32);
    expect(await verifyProgram(await signed(source), new Uint8Array(other))).toBe(false);
  });
  it("rejects a malformed key or signature without throwing", async () => {
    expect(await verifyProgram(await signed(source), new Uint8Array(3))).toBe(false);
    expect(await verifyProgram({ ...(await signed(source)), signature: new Uint8Array(5) }, raw)).toBe(false);
  });
});
