import { timingSafeEqual } from "node:crypto";
import { UnauthenticatedError } from "../core/errors.js";
import { sha256Hex } from "./output-hash.js";
import type { ManagerStore } from "./store/store.js";

/** The principal of a ManagerService call. */
export interface DistributorPrincipal {
  distributorId: string;
}

/** Accepts exactly the admin token (compared in constant time). */
export function adminAuthenticator(adminToken: string): (call: { token: string | undefined }) => { admin: true } {
  const expected = Buffer.from(sha256Hex(adminToken), "hex");
  return ({ token }) => {
    if (token === undefined || token === "") throw new UnauthenticatedError("missing admin token");
    if (!timingSafeEqual(Buffer.from(sha256Hex(token), "hex"), expected)) throw new UnauthenticatedError("wrong admin token");
    return { admin: true };
  };
}

/** Accepts tokens of distributors that exist and are not revoked; only their SHA-256 is looked up. */
export function distributorAuthenticator(store: ManagerStore): (call: { token: string | undefined }) => Promise<DistributorPrincipal> {
  return async ({ token }) => {
    if (token === undefined || token === "") throw new UnauthenticatedError("missing distributor token");
    const distributor = await store.getDistributorByTokenHash(sha256Hex(token));
    if (distributor === undefined) throw new UnauthenticatedError("unknown distributor token");
    if (distributor.revoked) throw new UnauthenticatedError("distributor token revoked");
    return { distributorId: distributor.id };
  };
}
