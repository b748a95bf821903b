/**
 * Domain errors shared by every part. Code deep in the domain throws these (never `ConnectError`);
 * one server interceptor maps them to Connect codes by their {@link DisioError.code}.
 *
 * Parts subclass them with specific names (`UnitNotFoundError extends NotFoundError`).
 */

/** The Connect code names our domain errors map to. */
export type DisioErrorCode =
  | "invalid_argument"
  | "not_found"
  | "already_exists"
  | "permission_denied"
  | "unauthenticated"
  | "resource_exhausted"
  | "failed_precondition"
  | "unavailable";

/** Base class of every dis.io domain error. */
export abstract class DisioError extends Error {
  /** The Connect code this error maps to at the service boundary. */
  abstract readonly code: DisioErrorCode;
}

/** A request field is missing, malformed or out of range. `field` names it. */
export class InvalidArgumentError extends DisioError {
  readonly code = "invalid_argument" as const;
  constructor(
    /** The offending field, e.g. `quorum`. */
    readonly field: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${field}: ${message}`, options);
    this.name = "InvalidArgumentError";
  }
}

/** An id names nothing we hold. */
export class NotFoundError extends DisioError {
  readonly code = "not_found" as const;
  constructor(
    /** What kind of thing was looked for, e.g. `project`. */
    readonly kind: string,
    /** The id that was not found. */
    readonly id: string,
    options?: ErrorOptions,
  ) {
    super(`${kind} ${JSON.stringify(id)} not found`, options);
    this.name = "NotFoundError";
  }
}

/** A thing with that unique name exists already. */
export class AlreadyExistsError extends DisioError {
  readonly code = "already_exists" as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AlreadyExistsError";
  }
}

/** The caller is known but may not do this (e.g. report a task it was not given). */
export class PermissionDeniedError extends DisioError {
  readonly code = "permission_denied" as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PermissionDeniedError";
  }
}

/** The caller sent no credentials, or ones we do not accept (wrong, expired, revoked). */
export class UnauthenticatedError extends DisioError {
  readonly code = "unauthenticated" as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UnauthenticatedError";
  }
}

/** A size or count limit was exceeded. */
export class ResourceExhaustedError extends DisioError {
  readonly code = "resource_exhausted" as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ResourceExhaustedError";
  }
}

/** The request is well formed but the state does not allow it (e.g. resume a done project). */
export class FailedPreconditionError extends DisioError {
  readonly code = "failed_precondition" as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "FailedPreconditionError";
  }
}

/** A dependency (a manager, a store) cannot be reached right now; retrying later may work. */
export class UnavailableError extends DisioError {
  readonly code = "unavailable" as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UnavailableError";
  }
}

/**
 * The store's disk or database is full (SQLite `SQLITE_FULL`): writes fail until space is freed.
 * Reads may still work. `reason` is the engine's own words, e.g. "database or disk is full".
 */
export class StoreFullError extends ResourceExhaustedError {
  constructor(
    /** The engine's message. */
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`store full: ${reason}`, options);
    this.name = "StoreFullError";
  }
}

/**
 * The store cannot be used right now (an I/O error, the database busy or locked, a read-only
 * file): retrying later may work. `reason` is the engine's own words.
 */
export class StoreUnavailableError extends UnavailableError {
  constructor(
    /** The engine's message. */
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`store unavailable: ${reason}`, options);
    this.name = "StoreUnavailableError";
  }
}

/** A store failure of either kind ({@link StoreFullError}, {@link StoreUnavailableError}). */
export type StoreError = StoreFullError | StoreUnavailableError;

/**
 * Whether `error` is a {@link StoreError}. Background loops log those quietly: the store guard
 * logged the failure once when it began, and `/healthz` reports it while it lasts.
 */
export function isStoreError(error: unknown): error is StoreError {
  return error instanceof StoreFullError || error instanceof StoreUnavailableError;
}
