import { FailedPreconditionError, UnavailableError } from "../errors.js";

/**
 * A distributor vouches for a manager key other than the one the client trusts: the key it was
 * given (`source: "pinned"`, `trustKey` / `--trust`) or the one it remembered for this grid
 * (`source: "remembered"`, trusted on first use). The client runs nothing from it.
 */
export class TrustKeyMismatchError extends FailedPreconditionError {
  constructor(
    /** The distributor URL the client was pointed at. */
    readonly distributorUrl: string,
    /** Where the trusted key came from. */
    readonly source: "pinned" | "remembered",
    /** The trusted key, base64. */
    readonly trustedKey: string,
    /** The key the distributor announced, base64. */
    readonly announcedKey: string,
    options?: ErrorOptions,
  ) {
    super(
      source === "pinned"
        ? `the manager key announced by ${distributorUrl} (${announcedKey}) is not the pinned trust key (${trustedKey})`
        : `the manager key of ${distributorUrl} changed from ${trustedKey} to ${announcedKey}; trust the new key explicitly if its manager rotated it`,
      options,
    );
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
