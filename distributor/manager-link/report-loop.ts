import type { Logger } from "pino";
import { backoffDelayMs, DEFAULT_BACKOFF, type BackoffPolicy } from "../../core/backoff.js";
import { takeWithinBytes } from "../../core/byte-budget.js";
import { reportBatching, type ReportBatchSettings } from "../../core/report-batching.js";
import type { StoredResult } from "../store/store.js";
import { sleep } from "../signal.js";

/** What the report loop needs. */
export interface ReportLoopDeps {
  /** Results buffered now. */
  count(): Promise<number>;
  /** The oldest buffered results, at most `limit`. */
  pending(limit: number): Promise<StoredResult[]>;
  /** Sends a batch to a manager; resolves once the manager acknowledged it (committed). */
  send(results: StoredResult[], signal: AbortSignal): Promise<void>;
  /** Deletes acknowledged results from the store. */
  ack(copyIds: string[]): Promise<void>;
  /** Resolves when results were stored or after `timeoutMs`. */
  waitForResults(timeoutMs: number, signal: AbortSignal): Promise<unknown>;
  /** Batch size (already capped by the manager) and flush interval. */
  settings(): ReportBatchSettings;
  /** Largest encoded size of one batch, bytes. */
  maxBatchBytes: number;
  log: Logger;
  backoff?: BackoffPolicy;
  now?: () => number;
}

/**
 * Sends one batch: the oldest results (cut at `maxBatchBytes`), and deletes them once the manager
 * acknowledged. Resolves to the number sent (0 when none were buffered); a failed send rejects and
 * leaves the results buffered.
 */
export async function flushBatch(deps: Pick<ReportLoopDeps, "pending" | "send" | "ack" | "maxBatchBytes">, limit: number, signal: AbortSignal): Promise<number> {
  const pending = await deps.pending(limit);
  // 8 bytes a result for its framing in the Report.
  const batch = takeWithinBytes(pending, (r) => r.result.byteLength + 8, deps.maxBatchBytes).taken;
  if (batch.length === 0) return 0;
  await deps.send(batch, signal);
  await deps.ack(batch.map((r) => r.copyId));
  return batch.length;
}

/**
 * Sends buffered results to the manager in batches ({@link reportBatching}: a full batch at once,
 * a partial one after the flush interval), deleting them only after the manager acknowledged them;
 * retries with backoff while the manager is unreachable. Runs until `signal` aborts.
 */
export async function runReportLoop(deps: ReportLoopDeps, signal: AbortSignal): Promise<void> {
  const log = deps.log.child({ component: "report-loop" });
  const now = deps.now ?? Date.now;
  let attempt = 0;
  let sinceMs = now();
  while (!signal.aborted) {
    try {
      const decision = reportBatching({ pending: await deps.count(), sinceMs }, now(), deps.settings());
      if ("waitMs" in decision) {
        await deps.waitForResults(decision.waitMs, signal);
        continue;
      }
      const sent = await flushBatch(deps, decision.send, signal);
      if (attempt > 0) log.info({ sent }, "results flowing to the manager again");
      attempt = 0;
      sinceMs = now();
      log.debug({ sent }, "results reported");
    } catch (error) {
      if (signal.aborted) break;
      const delay = backoffDelayMs(attempt++, deps.backoff ?? DEFAULT_BACKOFF);
      log.debug({ err: error, retryInMs: delay }, "report failed, results stay buffered");
      await sleep(delay, signal);
    }
  }
}
