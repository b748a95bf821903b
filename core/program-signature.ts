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
 * True when `source` hashes to `hash` and `signature` is the Ed25519 signature of that hash by
 * `publicKey` (raw 32 bytes). Anything malformed verifies as false rather than throwing.
 */
export async function verifyProgram(
  program: { hash: string; source: string; signature: Uint8Array },
  publicKey: Uint8Array,
): Promise<boolean> {
  if ((await programHash(program.source)) !== program.hash) return false;
  try {
    // Copies give WebCrypto plain ArrayBuffer-backed views, as its typings require.
    const key = await crypto.subtle.importKey("raw", new Uint8Array(publicKey), { name: "Ed25519" }, false, ["verify"]);
    return await crypto.subtle.verify("Ed25519", key, new Uint8Array(program.signature), new Uint8Array(programSignatureMessage(program.hash)));
  } catch {
    return false;
  }
}
