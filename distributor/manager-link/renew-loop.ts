import type { Logger } from "pino";
import { backoffDelayMs, DEFAULT_BACKOFF, type BackoffPolicy } from "../../core/backoff.js";
import { leaseRenewal } from "../../core/lease-renewal.js";
import type { RenewedLease } from "../store/store.js";
import { sleep } from "../signal.js";

/** What the renew loop needs. */
export interface RenewLoopDeps {
  /** Held copies whose manager lease is due for renewal. */
  due(nowMs: number, limit: number): Promise<string[]>;
  /** Renews at the manager: new deadlines, and copies it will not renew. */
  renew(copyIds: string[], signal: AbortSignal): Promise<{ renewed: { copyId: string; deadlineMs: number }[]; lost: string[] }>;
  /** Records the new deadlines. */
  applyRenewed(renewed: RenewedLease[]): Promise<void>;
  /** Drops copies the manager took back. */
  drop(copyIds: string[]): Promise<void>;
  /** Pause between checks, ms. */
  intervalMs: number;
  /** Most copies per Renew. */
  batch: number;
  log: Logger;
  backoff?: BackoffPolicy;
  now?: () => number;
}

/**
 * Renews the manager leases of copies still held (ready or in a client's hands) before they end,
 * in batches; drops the copies the manager says are lost. While the manager is unreachable the
 * copies are kept and served anyway (their results are still welcome). Runs until `signal` aborts.
 */
export async function runRenewLoop(deps: RenewLoopDeps, signal: AbortSignal): Promise<void> {
  const log = deps.log.child({ component: "renew-loop" });
  const now = deps.now ?? Date.now;
  let attempt = 0;
  while (!signal.aborted) {
    try {
      const due = await deps.due(now(), deps.batch);
      if (due.length === 0) {
        await sleep(deps.intervalMs, signal);
        continue;
      }
      const asked = now();
      const { renewed, lost } = await deps.renew(due, signal);
      await deps.applyRenewed(renewed.map((r) => ({ copyId: r.copyId, leaseDeadlineMs: r.deadlineMs, renewAtMs: leaseRenewal(asked, r.deadlineMs) })));
      if (lost.length > 0) {
        await deps.drop(lost);
        log.info({ lost: lost.length }, "manager took copies back, dropped");
      }
      attempt = 0;
      if (due.length < deps.batch) await sleep(deps.intervalMs, signal);
    } catch (error) {
      if (signal.aborted) break;
      const delay = Math.max(deps.intervalMs, backoffDelayMs(attempt++, deps.backoff ?? DEFAULT_BACKOFF));
      log.debug({ err: error, retryInMs: delay }, "renew failed");
      await sleep(delay, signal);
    }
  }
}
