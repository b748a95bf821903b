/**
 * Mapper from leased tasks (encoded, as the manager sent them) to the store's copies.
 */
import { leaseRenewal } from "../core/lease-renewal.js";
import { scanTask } from "./raw-task.js";
import type { LeasedCopy } from "./store/store.js";

/** Lease length assumed when a manager sends a task without a deadline, ms. */
export const DEFAULT_MANAGER_LEASE_MS = 60_000;

/**
 * An encoded task from a Lease response as a copy to hold. Undefined for a task without a copy id
 * or with malformed bytes (it is not held; the manager's lease on it simply runs out).
 */
export function leasedCopyFromTask(task: Uint8Array, nowMs: number): LeasedCopy | undefined {
  let header;
  try {
    header = scanTask(task);
  } catch {
    return undefined;
  }
  if (header.copyId === "") return undefined;
  const leaseDeadlineMs = header.deadlineMs ?? nowMs + DEFAULT_MANAGER_LEASE_MS;
  return {
    copyId: header.copyId,
    unitId: header.unitId,
    projectId: header.projectId,
    priority: header.priority,
    leaseDeadlineMs,
    renewAtMs: leaseRenewal(nowMs, leaseDeadlineMs),
    task,
  };
}
