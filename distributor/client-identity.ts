import { hash } from "node:crypto";
import { BadClientRequestError } from "./errors.js";

/** Who a session's client is beyond its session: what the distributor vouches for in its results. */
export interface ClientIdentity {
  /** Public identity: `k-` and 32 hex digits of the SHA-256 of the client's key; "" for a keyless client. */
  clientKey: string;
  /** The client's remote IP; "" when it cannot tell clients apart by it (loopback, unknown). */
  clientHost: string;
}

/** A keyless client whose remote address is unknown. */
export const ANONYMOUS: ClientIdentity = { clientKey: "", clientHost: "" };

const KEY = /^[\x21-\x7e]{16,128}$/;

/**
 * The identity of a joining client from its JoinRequest `client_key` and the remote address of the
 * Join. The raw key is a secret of the client's install and is never stored or passed on: only its
 * hash is. Loopback addresses tell no hosts apart (every local client and any reverse proxy share
 * them), so they count as unknown. Throws `BadClientRequestError` for a key that is not 16 to 128
 * printable ASCII characters.
 */
export function clientIdentityOf(rawKey: string, remoteAddress: string): ClientIdentity {
  if (rawKey !== "" && !KEY.test(rawKey)) throw new BadClientRequestError("client_key", "must be 16 to 128 printable ASCII characters");
  const clientKey = rawKey === "" ? "" : `k-${hash("sha256", rawKey, "hex").slice(0, 32)}`;
  return { clientKey, clientHost: hostOf(remoteAddress) };
}

/**
 * The tags the distributor tells clients apart by when choosing who gets a unit's next copy: the
 * identity's key (a keyless client: its session) and its host when known. Two sessions sharing a
 * tag are one volunteer.
 */
export function identityTags(clientId: string, identity: ClientIdentity): string[] {
  const tags = [identity.clientKey !== "" ? `k:${identity.clientKey}` : `s:${clientId}`];
  if (identity.clientHost !== "") tags.push(`h:${identity.clientHost}`);
  return tags;
}

function hostOf(address: string): string {
  const ip = address.startsWith("::ffff:") ? address.slice(7) : address;
  if (ip === "" || ip === "::1" || ip.startsWith("127.")) return "";
  return ip;
}
