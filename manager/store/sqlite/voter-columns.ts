import type { ReportedResult } from "../store.js";

/**
 * The `client_key` and `client_host` columns of a reported copy. A result a distributor vouches for
 * (it names the client) from a keyless client has key "" (core/voter-tags.ts: one voter per
 * distributor); a result naming no client at all has NULL, an unknown voter that counts on its own.
 */
export function voterColumns(result: ReportedResult): { clientKey: string | null; clientHost: string | null } {
  if (result.clientId === undefined && result.clientKey === undefined) return { clientKey: null, clientHost: null };
  return { clientKey: result.clientKey ?? "", clientHost: result.clientHost ?? null };
}
