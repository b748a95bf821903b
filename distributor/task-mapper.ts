/**
 * Mappers between leased `Task` messages and the store's copies. Tasks travel as the manager sent
 * them; only the deadline changes on the way to a client (it becomes the client's lease).
 */
import { timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import type { Task } from "../gen/disio/v1/common_pb.js";
import { leaseRenewal } from "../core/lease-renewal.js";
import type { GivenCopy, LeasedCopy } from "./store/store.js";

/** Lease length assumed when a manager sends a task without a deadline, ms. */
export const DEFAULT_MANAGER_LEASE_MS = 60_000;

/** A task from a Lease response as a copy to hold. Tasks without a copy id are skipped (undefined). */
export function leasedCopyFromTask(task: Task, nowMs: number): LeasedCopy | undefined {
  if (task.copyId === "") return undefined;
  const leaseDeadlineMs = task.deadline === undefined ? nowMs + DEFAULT_MANAGER_LEASE_MS : timestampMs(task.deadline);
  return {
    copyId: task.copyId,
    unitId: task.unitId,
    projectId: task.projectId,
    priority: task.priority,
    leaseDeadlineMs,
    renewAtMs: leaseRenewal(nowMs, leaseDeadlineMs),
    task,
  };
}

/**
 * Given copies as the tasks sent to the client: the leased message with the client lease as its
 * deadline (a shallow copy; the input bytes are shared, not copied).
 */
export function clientTasks(given: readonly GivenCopy[]): Task[] {
  const deadlines = new Map<number, ReturnType<typeof timestampFromMs>>();
  return given.map((copy) => {
    let deadline = deadlines.get(copy.clientDeadlineMs);
    if (deadline === undefined) {
      deadline = timestampFromMs(copy.clientDeadlineMs);
      deadlines.set(copy.clientDeadlineMs, deadline);
    }
    return { ...copy.task, deadline };
  });
}
