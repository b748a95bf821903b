import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { ProgramSchema } from "../../gen/disio/v1/common_pb.js";
import type { DistributorService } from "../../gen/disio/v1/distributor_service_pb.js";
import { UnauthenticatedError } from "../../core/errors.js";
import { VERSION } from "../../core/version.js";
import { parseWorkSlots } from "../../core/work-credit.js";
import { principalKey, remoteAddressKey, usesJsonCodec } from "../../server/index.js";
import { clientIdentityOf } from "../client-identity.js";
import { BadClientRequestError, DistributorFullError, NotRegisteredError } from "../errors.js";
import type { ProgramCache } from "../program-cache.js";
import { decodedWorkResponse, workResponseFromTasks } from "../raw-task.js";
import { redirectPeer, type PeerInfo } from "../redirect-peer.js";
import type { SessionTokens } from "../session-tokens.js";
import type { DistributorStore } from "../store/store.js";
import type { WorkHub } from "../work-hub.js";

/** What the distributor knows of its manager link, read at each call. */
export interface LinkStatus {
  /** Our id ("" until the first registration). */
  distributorId: string;
  /** The manager's raw Ed25519 public key (empty until known). */
  managerPublicKey: Uint8Array;
  /** The manager group the key belongs to ("" until known). */
  managerGroupId: string;
  /** Whether a manager answered recently. */
  managerConnected: boolean;
  /** Peer distributors, for redirects. */
  peers: readonly PeerInfo[];
}

/** Dependencies of {@link createDistributorService}. */
export interface DistributorServiceDeps {
  hub: WorkHub;
  tokens: SessionTokens;
  programs: Pick<ProgramCache, "get">;
  store: Pick<DistributorStore, "counts">;
  link: () => LinkStatus;
  settings: { maxClients: number; taskLeaseMs: number; maxRunTimeMs: number; region: string };
}

/** The principal Work and Report run as (set by the session-token authenticator). */
export interface ClientPrincipal {
  clientId: string;
}

const HASH = /^[0-9a-f]{64}$/;

function clientOf(ctx: HandlerContext): string {
  const principal = ctx.values.get(principalKey) as ClientPrincipal | undefined;
  if (principal === undefined || typeof principal.clientId !== "string") throw new UnauthenticatedError("session token required");
  return principal.clientId;
}

/** DistributorService: Join, Work, Report, GetProgram and GetInfo for clients. */
export function createDistributorService(deps: DistributorServiceDeps): ServiceImpl<typeof DistributorService> {
  return {
    async getInfo() {
      const link = deps.link();
      const counts = await deps.store.counts(deps.hub.pausedProjects);
      return {
        distributorId: link.distributorId,
        version: VERSION,
        managerPublicKey: link.managerPublicKey,
        queuedTasks: counts.ready,
        clients: deps.hub.connectedClients,
        managerConnected: link.managerConnected,
      };
    },

    join(request, ctx) {
      const identity = clientIdentityOf(request.clientKey, ctx.values.get(remoteAddressKey));
      const link = deps.link();
      if (deps.hub.connectedClients >= deps.settings.maxClients) {
        const peer = redirectPeer(link.peers, { distributorId: link.distributorId, region: deps.settings.region });
        if (peer === undefined) throw new DistributorFullError(deps.settings.maxClients);
        return { redirectUrl: peer.publicUrl, managerPublicKey: link.managerPublicKey };
      }
      // Without the manager's key a client could verify no program and would fail every task it got.
      if (link.managerPublicKey.length === 0) throw new NotRegisteredError();
      const { clientId, sessionToken } = deps.tokens.issue();
      const heartbeatMs = deps.hub.joined(clientId, request.platform === "browser" ? "browser" : request.platform === "node" ? "node" : "other", identity);
      return {
        clientId,
        sessionToken,
        managerPublicKey: link.managerPublicKey,
        managerGroupId: link.managerGroupId,
        taskLease: durationFromMs(deps.settings.taskLeaseMs),
        maxRunTime: durationFromMs(deps.settings.maxRunTimeMs),
        heartbeatInterval: durationFromMs(heartbeatMs),
      };
    },

    async *work(request, ctx) {
      const clientId = clientOf(ctx);
      const slots = parseWorkSlots(request.slots);
      if (slots === undefined) throw new BadClientRequestError("slots", `must be 1..10000, got ${request.slots}`);
      const toResponse = usesJsonCodec(ctx.requestHeader) ? decodedWorkResponse : workResponseFromTasks;
      for await (const batch of deps.hub.work(clientId, slots, ctx.signal)) {
        const response = toResponse(batch.tasks, batch.pause);
        response.inHand = batch.inHand;
        if (batch.cancelled !== undefined) response.cancelledCopyIds = batch.cancelled;
        yield response;
      }
    },

    async report(request, ctx) {
      const clientId = clientOf(ctx);
      const slots = request.slots === undefined ? undefined : parseWorkSlots(request.slots);
      if (request.slots !== undefined && slots === undefined) throw new BadClientRequestError("slots", `must be 1..10000, got ${request.slots}`);
      const outcome = await deps.hub.report(clientId, request.results, request.returnedCopyIds);
      if (slots !== undefined) deps.hub.setCredit(clientId, slots);
      return { accepted: outcome.accepted, duplicates: outcome.duplicates, refusedCopyIds: outcome.refusedCopyIds };
    },

    async getProgram(request) {
      if (!HASH.test(request.hash)) throw new BadClientRequestError("hash", "must be 64 lower-case hex digits");
      const program = await deps.programs.get(request.hash);
      return { program: create(ProgramSchema, program) };
    },
  };
}
