import { DistributorStatus } from "../../gen/disio/v1/admin_service_pb.js";
import { Encoding, Outcome, ProjectState, UnitState } from "../../gen/disio/v1/common_pb.js";
import { InvalidArgumentError } from "../../core/errors.js";
import type { DistributorStatus as DomainDistributorStatus } from "../../core/distributor-status.js";
import type { PayloadEncoding } from "../../core/project-settings.js";
import type { CopyOutcome, UnitState as DomainUnitState } from "../../core/unit-transitions.js";
import type { ProjectState as DomainProjectState } from "../store/store.js";

/** Proto encoding → domain (unspecified means JSON). Throws InvalidArgumentError naming `field`. */
export function fromProtoEncoding(encoding: Encoding, field: string): PayloadEncoding {
  if (encoding === Encoding.UNSPECIFIED || encoding === Encoding.JSON) return "json";
  if (encoding === Encoding.BYTES) return "bytes";
  throw new InvalidArgumentError(field, `unknown encoding ${encoding}`);
}

/** Domain encoding → proto. */
export function toProtoEncoding(encoding: PayloadEncoding): Encoding {
  return encoding === "bytes" ? Encoding.BYTES : Encoding.JSON;
}

const projectStates: Record<DomainProjectState, ProjectState> = {
  active: ProjectState.ACTIVE,
  paused: ProjectState.PAUSED,
  done: ProjectState.DONE,
  expired: ProjectState.EXPIRED,
};
/** Domain project state → proto. */
export function toProtoProjectState(state: DomainProjectState): ProjectState {
  return projectStates[state];
}

const unitStates: Record<DomainUnitState, UnitState> = {
  queued: UnitState.QUEUED,
  running: UnitState.RUNNING,
  done: UnitState.DONE,
  failed: UnitState.FAILED,
  expired: UnitState.EXPIRED,
  cancelled: UnitState.CANCELLED,
};
/** Domain unit state → proto. */
export function toProtoUnitState(state: DomainUnitState): UnitState {
  return unitStates[state];
}
/** Proto unit state → domain; UNSPECIFIED → undefined. Throws InvalidArgumentError naming `field`. */
export function fromProtoUnitState(state: UnitState, field: string): DomainUnitState | undefined {
  if (state === UnitState.UNSPECIFIED) return undefined;
  const found = (Object.entries(unitStates) as Array<[DomainUnitState, UnitState]>).find(([, code]) => code === state);
  if (found === undefined) throw new InvalidArgumentError(field, `unknown unit state ${state}`);
  return found[0];
}

const outcomes: Record<CopyOutcome, Outcome> = {
  pending: Outcome.PENDING,
  ok: Outcome.OK,
  error: Outcome.ERROR,
  timeout: Outcome.TIMEOUT,
  invalid: Outcome.INVALID,
  released: Outcome.RELEASED,
};
/** Domain copy outcome → proto. */
export function toProtoOutcome(outcome: CopyOutcome): Outcome {
  return outcomes[outcome];
}

const distributorStatuses: Record<DomainDistributorStatus, DistributorStatus> = {
  new: DistributorStatus.NEW,
  online: DistributorStatus.ONLINE,
  offline: DistributorStatus.OFFLINE,
  draining: DistributorStatus.DRAINING,
  revoked: DistributorStatus.REVOKED,
};
/** Domain distributor status → proto. */
export function toProtoDistributorStatus(status: DomainDistributorStatus): DistributorStatus {
  return distributorStatuses[status];
}
