import { backoffDelayMs, type BackoffPolicy } from "../backoff.js";
import { verifyProgram, type Ed25519Verify } from "../program-signature.js";

/** A program as GetProgram returns it. */
export interface SignedProgram {
  hash: string;
  source: string;
  signature: Uint8Array;
}

/**
 * Whether a program may run: its verified source, or why not. `retryable` marks a program that
 * could not be fetched (the grid's fault, not the unit's: its tasks are handed back, not failed).
 */
export type ProgramVerdict =
  | { readonly ok: true; readonly source: string }
  | { readonly ok: false; readonly reason: string; readonly retryable?: boolean };

/** What {@link ProgramCache} needs from the outside world. */
export interface ProgramCacheDeps {
  /** Fetches a program by hash (GetProgram); undefined when the distributor has no such program. */
  fetch(hash: string): Promise<SignedProgram | undefined>;
  /** Retry policy for failed fetches. */
  backoff: BackoffPolicy;
  /** Fetch attempts before the verdict is "could not be loaded". */
  attempts: number;
  /** Waits (injectable for tests). */
  sleep(ms: number): Promise<void>;
  /** Ed25519 check; default WebCrypto. */
  verify?: Ed25519Verify;
}

/**
 * Fetches each program once by hash and verifies its signature before anything runs it. Verdicts are
 * cached per (key, hash): a program that verified stays trusted, one that did not stays refused, and
 * a fetch that failed for network reasons is retried the next time it is asked for.
 */
export class ProgramCache {
  private readonly verdicts = new Map<string, Promise<ProgramVerdict>>();

  constructor(private readonly deps: ProgramCacheDeps) {}

  /** The verdict on program `hash` under manager key `publicKey` (undefined: no key known). */
  get(hash: string, publicKey: Uint8Array | undefined): Promise<ProgramVerdict> {
    if (publicKey === undefined || publicKey.length === 0) {
      return Promise.resolve({ ok: false, reason: "no manager key to verify the program with" });
    }
    const cacheKey = `${hex(publicKey)}:${hash}`;
    let verdict = this.verdicts.get(cacheKey);
    if (verdict === undefined) {
      verdict = this.load(hash, publicKey).then((outcome) => {
        if (!outcome.cache) this.verdicts.delete(cacheKey);
        return outcome.verdict;
      });
      this.verdicts.set(cacheKey, verdict);
    }
    return verdict;
  }

  private async load(hash: string, publicKey: Uint8Array): Promise<{ verdict: ProgramVerdict; cache: boolean }> {
    let lastError: unknown;
    for (let attempt = 0; attempt < this.deps.attempts; attempt++) {
      if (attempt > 0) await this.deps.sleep(backoffDelayMs(attempt - 1, this.deps.backoff));
      let program: SignedProgram | undefined;
      try {
        program = await this.deps.fetch(hash);
      } catch (error) {
        lastError = error;
        continue;
      }
      if (program === undefined) return { verdict: { ok: false, reason: `program ${hash} not found` }, cache: false };
      if (program.hash !== hash) {
        return { verdict: { ok: false, reason: `asked for program ${hash}, got ${program.hash}` }, cache: false };
      }
      const valid = await verifyProgram(program, publicKey, this.deps.verify);
      return valid
        ? { verdict: { ok: true, source: program.source }, cache: true }
        : { verdict: { ok: false, reason: `program ${hash} failed signature verification` }, cache: true };
    }
    const detail = lastError instanceof Error ? lastError.message : String(lastError);
    return { verdict: { ok: false, reason: `program ${hash} could not be fetched: ${detail}`, retryable: true }, cache: false };
  }
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}
