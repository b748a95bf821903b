/**
 * What a program signature covers, and its verification with WebCrypto (Node ≥ 20 and browsers), so
 * the browser and Node clients check programs with the same code. The manager signs with node:crypto.
 */

/** Domain-separation prefix of the signed message. */
export const PROGRAM_SIGNATURE_PREFIX = "disio.program.v1:";

/** The bytes the manager signs for a program with this hash: UTF-8 of prefix + hex hash. */
export function programSignatureMessage(hash: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(PROGRAM_SIGNATURE_PREFIX + hash);
}

/** Lower-case hex SHA-256 of a program's UTF-8 source: its content address. */
export async function programHash(source: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(source));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * Checks an Ed25519 signature: true when `signature` signs `message` under `publicKey` (raw 32
 * bytes). May throw on malformed input (callers treat that as false).
 */
export type Ed25519Verify = (publicKey: Uint8Array, signature: Uint8Array, message: Uint8Array) => Promise<boolean>;

/** Ed25519 verification with WebCrypto (Node ≥ 20, Chromium ≥ 137, Firefox, Safari ≥ 17). */
export const webCryptoEd25519Verify: Ed25519Verify = async (publicKey, signature, message) => {
  // Copies give WebCrypto plain ArrayBuffer-backed views, as its typings require.
  const key = await crypto.subtle.importKey("raw", new Uint8Array(publicKey), { name: "Ed25519" }, false, ["verify"]);
  return crypto.subtle.verify("Ed25519", key, new Uint8Array(signature), new Uint8Array(message));
};

/**
 * True when `source` hashes to `hash` and `signature` is the Ed25519 signature of that hash by
 * `publicKey` (raw 32 bytes). Anything malformed verifies as false rather than throwing. `verify`
 * defaults to WebCrypto; a browser without Ed25519 in WebCrypto passes a library's.
 */
export async function verifyProgram(
  program: { hash: string; source: string; signature: Uint8Array },
  publicKey: Uint8Array,
  verify: Ed25519Verify = webCryptoEd25519Verify,
): Promise<boolean> {
  if ((await programHash(program.source)) !== program.hash) return false;
  try {
    return await verify(publicKey, program.signature, programSignatureMessage(program.hash));
  } catch {
    return false;
  }
}
