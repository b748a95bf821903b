/** What decides a project's place in the lease order. */
export interface LeaseOrderProject {
  /** Higher is leased first. */
  priority: number;
  /** Earlier deadlines first; undefined (no deadline) after every deadline. */
  deadlineMs: number | undefined;
  /** Creation time, epoch ms: older projects first when all else ties. */
  createdAtMs: number;
}

/** What decides a unit's place within its project. */
export interface LeaseOrderUnit {
  /** Higher is leased first. */
  priority: number;
  /** Age rank: lower (older) first. Unit ids grow with age, so stores pass their sequence. */
  seq: number;
}

/**
 * Comparator for projects in lease order: priority descending, then deadline ascending (no deadline
 * last), then age. Stores walk projects in this order and take units from each.
 */
export function compareProjectsForLease(a: LeaseOrderProject, b: LeaseOrderProject): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  const da = a.deadlineMs ?? Number.POSITIVE_INFINITY;
  const db = b.deadlineMs ?? Number.POSITIVE_INFINITY;
  if (da !== db) return da < db ? -1 : 1;
  return a.createdAtMs - b.createdAtMs;
}

/** Comparator for units of one project in lease order: priority descending, then age. */
export function compareUnitsForLease(a: LeaseOrderUnit, b: LeaseOrderUnit): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  return a.seq - b.seq;
}

/**
 * The full lease order over units of many projects: project order first
 * ({@link compareProjectsForLease}), then unit order ({@link compareUnitsForLease}). Returns a new
 * array; the reference the stores' indexes must reproduce.
 */
export function leaseOrder<U extends LeaseOrderUnit & { project: LeaseOrderProject }>(units: readonly U[]): U[] {
  return [...units].sort((a, b) => compareProjectsForLease(a.project, b.project) || compareUnitsForLease(a, b));
}
