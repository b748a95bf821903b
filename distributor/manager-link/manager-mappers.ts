/**
 * Mappers between ManagerService messages and the link's domain shapes (load, directives, peers,
 * renewals). Proto messages stop here.
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import type { Peer } from "../../gen/disio/v1/common_pb.js";
import { ClientSessionSchema, type HeartbeatRequestSchema, type HeartbeatResponse, type RenewResponse } from "../../gen/disio/v1/manager_service_pb.js";
import type { PeerInfo } from "../redirect-peer.js";
import { DEFAULT_MANAGER_LEASE_MS } from "../task-mapper.js";
import type { Directives, HeartbeatLoad } from "./heartbeat-loop.js";

/** Peers as the distributor keeps them. */
export function peersFromProto(peers: readonly Peer[]): PeerInfo[] {
  return peers.map((p) => ({ distributorId: p.distributorId, publicUrl: p.publicUrl, region: p.region, freeSlots: p.freeSlots }));
}

/** A heartbeat request from the load. Counts are clamped to uint32. */
export function heartbeatRequest(load: HeartbeatLoad): MessageInitShape<typeof HeartbeatRequestSchema> {
  const u32 = (n: number) => Math.max(0, Math.min(0xffffffff, Math.floor(n)));
  return {
    heldCopies: u32(load.heldCopies),
    clients: u32(load.clients),
    bufferedResults: u32(load.bufferedResults),
    freeSlots: u32(load.freeSlots),
    givenCopies: load.givenCopies,
    endedSessions: load.endedSessions.map((s) =>
      create(ClientSessionSchema, {
        clientId: s.clientId,
        platform: s.platform,
        joinTime: timestampFromMs(s.joinedAtMs),
        lastSeenTime: timestampFromMs(s.lastSeenMs),
        results: u32(s.results),
      }),
    ),
  };
}

/** The directives of a heartbeat response. */
export function directivesFromProto(response: HeartbeatResponse): Directives {
  return {
    drain: response.drain,
    cancelledUnitIds: response.cancelledUnitIds,
    pausedProjectIds: response.pausedProjectIds,
    peers: peersFromProto(response.peers),
  };
}

/** New deadlines and lost copies of a renew response. */
export function renewalsFromProto(response: RenewResponse, nowMs: number): { renewed: { copyId: string; deadlineMs: number }[]; lost: string[] } {
  return {
    renewed: response.renewed.map((r) => ({
      copyId: r.copyId,
      deadlineMs: r.deadline === undefined ? nowMs + DEFAULT_MANAGER_LEASE_MS : timestampMs(r.deadline),
    })),
    lost: response.lostCopyIds,
  };
}
