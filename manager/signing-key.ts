import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { programSignatureMessage } from "../core/program-signature.js";

/** Signs programs with the manager's Ed25519 key. */
export interface ProgramSigner {
  /** The raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** The public key as base64 (what `disio worker --trust` takes). */
  readonly publicKeyBase64: string;
  /** Signs UTF-8 of "disio.program.v1:" + hash (see core/program-signature.ts). */
  sign(programHash: string): Uint8Array;
}

/** File name of the private key inside the data folder. */
export const SIGNING_KEY_FILE = "signing-key.pem";

/**
 * Loads `<dataDir>/signing-key.pem`, creating an Ed25519 key there (mode 0600) on first start. The
 * key never leaves the data folder; clients pin its public half.
 */
export function loadOrCreateSigningKey(dataDir: string): ProgramSigner {
  const path = join(dataDir, SIGNING_KEY_FILE);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readFileSync(path, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    privateKey = generateKeyPairSync("ed25519").privateKey;
    writeFileSync(path, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600, flag: "wx" });
  }
  if (privateKey.asymmetricKeyType !== "ed25519") throw new TypeError(`${path} is not an Ed25519 key`);
  return programSigner(privateKey);
}

/**
 * Loads an Ed25519 private key (PEM, e.g. `openssl genpkey -algorithm ed25519`) kept outside the
 * manager's data folder (`disio manager --signing-key FILE`): a key on a separate volume, shared by
 * the managers of a group, or rotated. Never creates one. Throws `TypeError` saying what is wrong:
 * a missing file, not a PEM private key, or another key type.
 */
export function loadSigningKeyFile(path: string): ProgramSigner {
  let pem: string;
  try {
    pem = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new TypeError(code === "ENOENT" ? `signing key ${path}: no such file` : `signing key ${path}: cannot read it (${code})`, { cause: error });
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (error) {
    throw new TypeError(`signing key ${path} is not a PEM private key (make one with: openssl genpkey -algorithm ed25519 -out ${path})`, { cause: error });
  }
  if (privateKey.asymmetricKeyType !== "ed25519") throw new TypeError(`signing key ${path} is an ${privateKey.asymmetricKeyType} key, not Ed25519`);
  return programSigner(privateKey);
}

function programSigner(privateKey: KeyObject): ProgramSigner {
  const spki = createPublicKey(privateKey).export({ type: "spki", format: "der" });
  const publicKey = new Uint8Array(spki.subarray(spki.length - 32));
  return {
    publicKey,
    publicKeyBase64: Buffer.from(publicKey).toString("base64"),
    sign: (programHash) => new Uint8Array(sign(null, programSignatureMessage(programHash), privateKey)),
  };
}
