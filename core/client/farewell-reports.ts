import type { TaskResult } from "../../gen/disio/v1/common_pb.js";

/** One Report of a farewell: results to store and copies handed back unstarted. */
export interface FarewellRequest {
  results: TaskResult[];
  returnedCopyIds: string[];
}

/** Limits of {@link farewellReports}. */
export interface FarewellLimits {
  /**
   * Body budget of the first request, bytes: what a `fetch` with `keepalive` may carry while the page
   * unloads (browsers allow 64 KiB for all such requests in flight together; leave headroom).
   */
  firstBytes: number;
  /** Body budget of each later request, bytes (sent only if the page lives on). */
  restBytes: number;
  /** Results plus returned copies per request at most (the distributor's `maxReportResults`). */
  maxEntries: number;
}

/** Wire size of a returned copy id: its bytes plus tag and length. */
function returnedBytes(copyId: string): number {
  return copyId.length + 3;
}

/**
 * Upper bound of a result's wire size: copy id, output or error text, duration, and the tags and
 * lengths around them (error text counted at up to 3 bytes a character, as UTF-8 may take).
 */
export function resultWireBytes(result: TaskResult): number {
  const outcome = result.outcome;
  const body =
    outcome.case === "output" ? outcome.value.byteLength : outcome.case === "error" ? 3 * (outcome.value.message.length + outcome.value.kind.length) : 0;
  return result.copyId.length + body + 40;
}

/**
 * Packs what a leaving client still owes the distributor into Report requests: every copy handed
 * back goes first (ids are small, and handing them back is what lets others start at once), then
 * the finished results. The first request fits `firstBytes` so it can ride a keepalive fetch that
 * survives the page unloading; the rest fit `restBytes`. A result larger than any budget still gets
 * a request of its own. Pure: the caller sends.
 */
export function farewellReports(results: readonly TaskResult[], returnedCopyIds: readonly string[], limits: FarewellLimits): FarewellRequest[] {
  const requests: FarewellRequest[] = [];
  let current: FarewellRequest = { results: [], returnedCopyIds: [] };
  let bytes = 0;
  const budget = () => (requests.length === 0 ? limits.firstBytes : limits.restBytes);
  const entries = () => current.results.length + current.returnedCopyIds.length;
  const fits = (size: number) => entries() === 0 || (bytes + size <= budget() && entries() < limits.maxEntries);
  const next = () => {
    requests.push(current);
    current = { results: [], returnedCopyIds: [] };
    bytes = 0;
  };
  for (const copyId of returnedCopyIds) {
    const size = returnedBytes(copyId);
    if (!fits(size)) next();
    current.returnedCopyIds.push(copyId);
    bytes += size;
  }
  for (const result of results) {
    const size = resultWireBytes(result);
    if (!fits(size)) next();
    current.results.push(result);
    bytes += size;
  }
  if (entries() > 0) requests.push(current);
  return requests;
}
