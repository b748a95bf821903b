import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { DistributorSchema, type Distributor } from "../../gen/disio/v1/admin_service_pb.js";
import { PeerSchema, type Peer } from "../../gen/disio/v1/common_pb.js";
import { distributorStatus } from "../../core/distributor-status.js";
import type { DistributorRecord } from "../store/store.js";
import { toProtoDistributorStatus } from "./enums.js";

/** A stored distributor → proto, with its status as of `nowMs`. */
export function toProtoDistributor(d: DistributorRecord, nowMs: number, heartbeatIntervalMs: number): Distributor {
  const status = distributorStatus({ ...d, registered: d.registeredAtMs !== undefined }, nowMs, heartbeatIntervalMs);
  // Load figures come from heartbeats: once none arrive they are stale, so they are not shown.
  const live = status === "online" || status === "draining";
  return create(DistributorSchema, {
    id: d.id,
    name: d.name,
    status: toProtoDistributorStatus(status),
    publicUrl: d.publicUrl,
    region: d.region,
    capacity: d.capacity,
    heldCopies: live ? d.heldCopies : 0,
    clients: live ? d.clients : 0,
    bufferedResults: live ? d.bufferedResults : 0,
    ...(d.lastSeenMs !== undefined && { lastSeenTime: timestampFromMs(d.lastSeenMs) }),
    createTime: timestampFromMs(d.createdAtMs),
    version: d.version,
  });
}

/** A distributor as a peer clients may be redirected to. */
export function toProtoPeer(d: DistributorRecord): Peer {
  return create(PeerSchema, { distributorId: d.id, publicUrl: d.publicUrl, region: d.region, freeSlots: d.freeSlots });
}
