import { setImmediate as nextTurn } from "node:timers/promises";
import type { LeasedTask, ManagerStore, RecordResultsOutcome, ReportedResult } from "../store/store.js";

/**
 * Rows per store call for a distributor's large Lease or Report: one SQLite transaction of 5,000
 * rows held the manager's only thread for tens of milliseconds, and AddUnits calls (a CLI adding a
 * file while the grid computes) waited behind every one. Split into parts of this many rows with an
 * event-loop turn between them, other calls run in between. Each part commits on its own, which
 * keeps every guarantee: a Report is acknowledged after all its parts committed, and a retried
 * Report's committed parts count as duplicates (recordResults is idempotent by copy id).
 */
export const STORE_CHUNK_ROWS = 1_000;

/** {@link ManagerStore.recordResults} in parts of {@link STORE_CHUNK_ROWS}, outcomes summed. */
export async function recordResultsInChunks(store: ManagerStore, distributorId: string, results: readonly ReportedResult[], now: () => number): Promise<RecordResultsOutcome> {
  const total: RecordResultsOutcome = { accepted: 0, duplicates: 0, unknown: 0, refused: 0, unitsReopened: false, unitsFinished: 0, unitsToValidate: 0 };
  for (let start = 0; start < results.length; start += STORE_CHUNK_ROWS) {
    if (start > 0) await nextTurn();
    const part = await store.recordResults(distributorId, results.slice(start, start + STORE_CHUNK_ROWS), now());
    total.accepted += part.accepted;
    total.duplicates += part.duplicates;
    total.unknown += part.unknown;
    total.refused += part.refused;
    total.unitsReopened ||= part.unitsReopened;
    total.unitsFinished += part.unitsFinished;
    total.unitsToValidate += part.unitsToValidate;
  }
  return total;
}

/**
 * {@link ManagerStore.leaseCopies} of up to `max` copies in parts of {@link STORE_CHUNK_ROWS}, the
 * input byte budget `maxInputBytes` shared by the parts; stops at the first part that comes back
 * short. A part after the first is asked for only while the budget left holds `largestInput` (the
 * store leases a part's first copy whatever its size), so the answer stays within the budget as one
 * call's would. As with successive Lease calls, a unit needing several copies may get more than one.
 */
export async function leaseCopiesInChunks(
  store: ManagerStore,
  distributorId: string,
  max: number,
  now: () => number,
  budget: { maxInputBytes: number; largestInput: number },
): Promise<LeasedTask[]> {
  const tasks: LeasedTask[] = [];
  let bytesLeft = budget.maxInputBytes;
  while (tasks.length < max && (tasks.length === 0 || bytesLeft >= budget.largestInput)) {
    if (tasks.length > 0) await nextTurn();
    const want = Math.min(STORE_CHUNK_ROWS, max - tasks.length);
    const part = await store.leaseCopies(distributorId, want, now(), bytesLeft);
    for (const task of part) {
      tasks.push(task);
      bytesLeft -= task.input.byteLength;
    }
    if (part.length < want) break;
  }
  return tasks;
}
