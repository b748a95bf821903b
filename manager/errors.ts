import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../core/errors.js";

/** No project has this id. */
export class ProjectNotFoundError extends NotFoundError {
  constructor(id: string, options?: ErrorOptions) {
    super("project", id, options);
    this.name = "ProjectNotFoundError";
  }
}

/** No unit has this id. */
export class UnitNotFoundError extends NotFoundError {
  constructor(id: string, options?: ErrorOptions) {
    super("unit", id, options);
    this.name = "UnitNotFoundError";
  }
}

/** No distributor has this id. */
export class DistributorNotFoundError extends NotFoundError {
  constructor(id: string, options?: ErrorOptions) {
    super("distributor", id, options);
    this.name = "DistributorNotFoundError";
  }
}

/** No program has this hash. */
export class ProgramNotFoundError extends NotFoundError {
  constructor(hash: string, options?: ErrorOptions) {
    super("program", hash, options);
    this.name = "ProgramNotFoundError";
  }
}

/** A project or distributor with this name exists already. */
export class NameTakenError extends AlreadyExistsError {
  constructor(kind: "project" | "distributor", name: string, options?: ErrorOptions) {
    super(`a ${kind} named ${JSON.stringify(name)} exists already`, options);
    this.name = "NameTakenError";
  }
}

/** A project state change the project's state does not allow (e.g. resume an expired project). */
export class ProjectStateError extends FailedPreconditionError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProjectStateError";
  }
}

/** An AddUnits request id was reused for a different batch of units than the one it first stored. */
export class RequestIdReusedError extends InvalidArgumentError {
  constructor(projectId: string, requestId: string, options?: ErrorOptions) {
    super(
      "request_id",
      `${JSON.stringify(requestId)} already stored a different batch of units in project ${projectId} (another count, inputs or priorities): use a new request id for new units`,
      options,
    );
    this.name = "RequestIdReusedError";
  }
}

/**
 * A project's `validate(a, b)` threw, returned something other than a boolean, ran past its time
 * limit or out of memory. Units it was asked about fail with "validator failed: …"; the manager runs on.
 */
export class ValidatorFailedError extends Error {
  constructor(reason: string, options?: ErrorOptions) {
    super(`validator failed: ${reason}`, options);
    this.name = "ValidatorFailedError";
  }
}
