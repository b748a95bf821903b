import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { UnauthenticatedError } from "../core/errors.js";

/** Issues and checks client session tokens. */
export interface SessionTokens {
  /** A fresh client id with its token. */
  issue(): { clientId: string; sessionToken: string };
  /** The client id a token was issued for; throws `UnauthenticatedError` when it is not ours. */
  verify(token: string | undefined): string;
}

/**
 * Session tokens `<clientId>.<base64url HMAC-SHA256(clientId)>` keyed with the distributor's secret:
 * nothing to store per client, and they stay valid across restarts because the secret is in the
 * store. Comparison is constant-time.
 */
export function createSessionTokens(secret: Uint8Array): SessionTokens {
  const mac = (clientId: string) => createHmac("sha256", secret).update(clientId, "utf8").digest();
  return {
    issue() {
      const clientId = randomUUID();
      return { clientId, sessionToken: `${clientId}.${mac(clientId).toString("base64url")}` };
    },
    verify(token) {
      if (token === undefined) throw new UnauthenticatedError("session token required (Join first)");
      const dot = token.lastIndexOf(".");
      if (dot <= 0) throw new UnauthenticatedError("malformed session token");
      const clientId = token.slice(0, dot);
      const given = Buffer.from(token.slice(dot + 1), "base64url");
      const expected = mac(clientId);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw new UnauthenticatedError("session token not issued by this distributor");
      }
      return clientId;
    },
  };
}
