/** What decides a project's place in the lease order. */
export interface LeaseOrderProject {
  /** Higher is leased first. */
  priority: number;
  /** Earlier deadlines first; undefined (no deadline) after every deadline. */
  deadlineMs: number | undefined;
  /** Creation time, epoch ms: older projects first when all else ties. */
  createdAtMs: number;
}

/**
 * Comparator for projects in lease order: priority descending, then deadline ascending (no deadline
 * last), then age. Stores walk projects in this order and take units from each, by unit priority
 * then age (an index or ORDER BY of the store's own; the conformance suite checks the whole order).
 */
export function compareProjectsForLease(a: LeaseOrderProject, b: LeaseOrderProject): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  const da = a.deadlineMs ?? Number.POSITIVE_INFINITY;
  const db = b.deadlineMs ?? Number.POSITIVE_INFINITY;
  if (da !== db) return da < db ? -1 : 1;
  return a.createdAtMs - b.createdAtMs;
}
