import { FailedPreconditionError } from "../../../core/errors.js";

/** The store's schema version is not the one this process speaks (another release wrote it). */
export class StoreSchemaMismatchError extends FailedPreconditionError {
  constructor(operation: string) {
    super(`redis store: ${operation} refused: the store's schema version differs from this distributor's (mixed releases in a pool?)`);
    this.name = "StoreSchemaMismatchError";
  }
}

/**
 * The error of a script's negative return code, or undefined for a reply that is not one. The one
 * translation of script error codes (BullMQ's `finishedErrors`): -1 the store's schema version
 * differs from ours.
 */
export function scriptError(reply: unknown, operation: string): Error | undefined {
  if (typeof reply !== "number" || reply >= 0) return undefined;
  if (reply === -1) return new StoreSchemaMismatchError(operation);
  return new Error(`redis store: ${operation} failed with unknown script code ${reply}`);
}
