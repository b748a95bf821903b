import type { Client } from "@connectrpc/connect";
import { durationMs } from "@bufbuild/protobuf/wkt";
import type { DistributorService } from "../../gen/disio/v1/distributor_service_pb.js";
import { fromBase64, toBase64 } from "../base64.js";
import type { ResolvedClientHandlerOptions } from "./client-handler-options.js";
import { TooManyRedirectsError } from "./errors.js";
import type { KeyMemory } from "./key-memory.js";
import { trustDecision } from "./trust-decision.js";

/** A connect client of DistributorService (any transport: connect-node, connect-web, in-memory). */
export type DistributorClient = Client<typeof DistributorService>;

/** A joined session with a distributor: where, who we are there, and what it asked of us. */
export interface Session {
  readonly url: string;
  readonly client: DistributorClient;
  readonly clientId: string;
  readonly headers: Record<string, string>;
  /** The key programs must verify against: the pinned, remembered or first-used key (see {@link trustDecision}). */
  readonly publicKey: Uint8Array | undefined;
  /** How that key came to be trusted, and the manager group the distributor announced. */
  readonly trust: { readonly how: "pinned" | "remembered" | "first-use" | "none"; readonly groupId: string };
  readonly taskLeaseMs: number | undefined;
  readonly maxRunTimeMs: number | undefined;
  /** How often the distributor wants to hear from us while we hold tasks, ms. */
  readonly heartbeatMs: number | undefined;
}

/**
 * Joins a distributor, following redirects (at most `maxRedirects`), and decides which manager key
 * to trust ({@link trustDecision}): the pinned trust key, else the one `keys` remembers for
 * `options.distributorUrl` (the URL the user gave, whatever the redirects), else the announced one,
 * remembered before the session is returned. A key that does not match is a `TrustKeyMismatchError`.
 * `onRedirect` is told each hop.
 */
export async function joinDistributor(
  options: ResolvedClientHandlerOptions,
  connect: (baseUrl: string) => DistributorClient,
  keys: KeyMemory,
  signal: AbortSignal,
  onRedirect: (from: string, to: string) => void,
): Promise<Session> {
  let url = options.distributorUrl;
  for (let hop = 0; ; hop++) {
    const client = connect(url);
    const response = await client.join(
      { platform: options.platform, cores: options.cores, version: options.version, userAgent: options.userAgent, clientKey: options.clientKey },
      { signal, timeoutMs: options.callTimeoutMs },
    );
    if (response.redirectUrl !== "") {
      if (hop >= options.maxRedirects) throw new TooManyRedirectsError(response.redirectUrl, hop + 1);
      onRedirect(url, response.redirectUrl);
      url = response.redirectUrl.replace(/\/+$/, "");
      continue;
    }
    const decision = trustDecision(
      {
        distributorUrl: options.distributorUrl,
        groupId: response.managerGroupId,
        announced: response.managerPublicKey.length > 0 ? toBase64(response.managerPublicKey) : undefined,
        pinned: options.trustKey === undefined ? undefined : toBase64(options.trustKey),
      },
      await keys.load(),
    );
    if (!decision.ok) throw decision.error;
    if (decision.remember !== undefined) await keys.remember(decision.remember);
    return {
      url,
      client,
      clientId: response.clientId,
      headers: { authorization: `Bearer ${response.sessionToken}` },
      publicKey: decision.publicKey === undefined ? undefined : fromBase64(decision.publicKey),
      trust: { how: decision.how, groupId: response.managerGroupId },
      taskLeaseMs: positiveMs(response.taskLease && durationMs(response.taskLease)),
      maxRunTimeMs: positiveMs(response.maxRunTime && durationMs(response.maxRunTime)),
      heartbeatMs: positiveMs(response.heartbeatInterval && durationMs(response.heartbeatInterval)),
    };
  }
}

function positiveMs(ms: number | undefined): number | undefined {
  return ms !== undefined && ms > 0 ? ms : undefined;
}
