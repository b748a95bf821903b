import { setImmediate as nextTurn } from "node:timers/promises";
import type { ManagerStore, RecordResultsOutcome, ReportedResult } from "../store/store.js";

/**
 * Results per store call for a distributor's large Report: one SQLite transaction of 5,000 rows
 * held the manager's only thread for tens of milliseconds, and AddUnits calls (a CLI adding a file
 * while the grid computes) waited behind every one. Split into parts of this many rows with an
 * event-loop turn between them, other calls run in between. Each part commits on its own, which
 * keeps every guarantee: a Report is acknowledged after all its parts committed, and a retried
 * Report's committed parts count as duplicates (recordResults is idempotent by copy id).
 *
 * Leases are not split: leasing 5,000 copies in parts of 1,000 cut the grid's sustained rate about
 * fourfold in `bench/throughput.ts` (6,254 → 1,635 units/s, one run each at load 7–12), where
 * splitting reports alone did not lower it (7,900).
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
