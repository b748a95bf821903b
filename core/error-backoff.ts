import { backoffDelayMs, type BackoffPolicy } from "./backoff.js";

/** Errors in a row (with no OK result between them) after which a client is held back. */
export const ERROR_STREAK_LIMIT = 8;

/** How a held-back client's pauses grow: 1 s doubling to 30 s, a little jitter. */
export const ERROR_BACKOFF: BackoffPolicy = { initialMs: 1_000, maxMs: 30_000, multiplier: 2, jitter: 0.2 };

/** What a distributor knows when it decides whether to hold a client back. */
export interface ErrorBackoffInput {
  /** The client's errors in a row (0 after an OK result). */
  errorStreak: number;
  /** Whether some other client returned OK results lately: the work can be done, so the errors are this client's. */
  othersSucceeding: boolean;
}

/** A client held back: at most `credit` tasks in its hands, and the next task no sooner than `delayMs` after its last one. */
export interface ErrorBackoffDecision {
  credit: number;
  delayMs: number;
}

/**
 * Whether to hold a client back because every task it returns is an error while others succeed (a
 * broken or lying client must not burn the attempts of every unit it can grab). Undefined: serve it
 * normally. When every client errors the program is what fails, so nobody is held back and the
 * units fail at the speed of the grid.
 */
export function errorBackoff(input: ErrorBackoffInput, random: () => number = Math.random): ErrorBackoffDecision | undefined {
  if (input.errorStreak < ERROR_STREAK_LIMIT || !input.othersSucceeding) return undefined;
  return { credit: 1, delayMs: backoffDelayMs(input.errorStreak - ERROR_STREAK_LIMIT, ERROR_BACKOFF, random) };
}
