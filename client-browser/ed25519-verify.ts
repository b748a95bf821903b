import { verifyAsync } from "@noble/ed25519";
import { webCryptoEd25519Verify, type Ed25519Verify } from "../core/program-signature.js";

let webCryptoHasEd25519: Promise<boolean> | undefined;

/** Whether this browser's WebCrypto knows Ed25519 (Chromium ≥ 137, Firefox ≥ 129, Safari ≥ 17). */
function detect(): Promise<boolean> {
  webCryptoHasEd25519 ??= crypto.subtle
    .importKey("raw", new Uint8Array(32), { name: "Ed25519" }, false, ["verify"])
    .then(
      () => true,
      (error: unknown) => !(error instanceof DOMException && error.name === "NotSupportedError"),
    );
  return webCryptoHasEd25519;
}

/**
 * Ed25519 verification for the browser: WebCrypto where it has Ed25519, else the audited
 * `@noble/ed25519` (pure JS, SHA-512 from WebCrypto), so older browsers verify programs too.
 */
export const browserEd25519Verify: Ed25519Verify = async (publicKey, signature, message) =>
  (await detect()) ? webCryptoEd25519Verify(publicKey, signature, message) : verifyAsync(signature, message, publicKey);
