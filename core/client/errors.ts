import { FailedPreconditionError, UnavailableError } from "../errors.js";

/** The distributor vouches for a manager key other than the one the client pinned with `trustKey`. */
export class TrustKeyMismatchError extends FailedPreconditionError {
  constructor(distributorUrl: string, options?: ErrorOptions) {
    super(`the manager key announced by ${distributorUrl} is not the pinned trust key`, options);
    this.name = "TrustKeyMismatchError";
  }
}

/** Join kept redirecting past the allowed number of hops. */
export class TooManyRedirectsError extends UnavailableError {
  constructor(lastUrl: string, hops: number, options?: ErrorOptions) {
    super(`join redirected ${hops} times (last to ${lastUrl})`, options);
    this.name = "TooManyRedirectsError";
  }
}
