import type { Client } from "@connectrpc/connect";
import { durationMs } from "@bufbuild/protobuf/wkt";
import type { DistributorService } from "../../gen/disio/v1/distributor_service_pb.js";
import type { ResolvedClientHandlerOptions } from "./client-handler-options.js";
import { TooManyRedirectsError, TrustKeyMismatchError } from "./errors.js";

/** A connect client of DistributorService (any transport: connect-node, connect-web, in-memory). */
export type DistributorClient = Client<typeof DistributorService>;

/** A joined session with a distributor: where, who we are there, and what it asked of us. */
export interface Session {
  readonly url: string;
  readonly client: DistributorClient;
  readonly clientId: string;
  readonly headers: Record<string, string>;
  /** The key programs must verify against: the pinned trust key, else the one announced at Join. */
  readonly publicKey: Uint8Array | undefined;
  readonly taskLeaseMs: number | undefined;
  readonly maxRunTimeMs: number | undefined;
  /** How often the distributor wants to hear from us while we hold tasks, ms. */
  readonly heartbeatMs: number | undefined;
}

/**
 * Joins a distributor, following redirects (at most `maxRedirects`), and checks the announced manager
 * key against the pinned trust key (`TrustKeyMismatchError`). `onRedirect` is told each hop.
 */
export async function joinDistributor(
  options: ResolvedClientHandlerOptions,
  connect: (baseUrl: string) => DistributorClient,
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
    const announced = response.managerPublicKey.length > 0 ? response.managerPublicKey : undefined;
    const trustKey = options.trustKey;
    if (trustKey !== undefined && announced !== undefined && !sameBytes(trustKey, announced)) throw new TrustKeyMismatchError(url);
    return {
      url,
      client,
      clientId: response.clientId,
      headers: { authorization: `Bearer ${response.sessionToken}` },
      publicKey: trustKey ?? announced,
      taskLeaseMs: positiveMs(response.taskLease && durationMs(response.taskLease)),
      maxRunTimeMs: positiveMs(response.maxRunTime && durationMs(response.maxRunTime)),
      heartbeatMs: positiveMs(response.heartbeatInterval && durationMs(response.heartbeatInterval)),
    };
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function positiveMs(ms: number | undefined): number | undefined {
  return ms !== undefined && ms > 0 ? ms : undefined;
}
