import { InvalidArgumentError, NotFoundError, PermissionDeniedError, ResourceExhaustedError, UnavailableError } from "../core/errors.js";

/** A client reported copies that were never given to it; nothing of the batch was stored. */
export class TaskNotGivenError extends PermissionDeniedError {
  constructor(
    /** Copies of the report that this client was never given. */
    readonly copyIds: readonly string[],
  ) {
    super(`${copyIds.length} reported task(s) were not given to this client, e.g. ${JSON.stringify(copyIds[0])}`);
    this.name = "TaskNotGivenError";
  }
}

/** The distributor is full and knows no peer to send the client to. */
export class DistributorFullError extends ResourceExhaustedError {
  constructor(maxClients: number) {
    super(`distributor is full (${maxClients} clients) and knows no peer with free slots`);
    this.name = "DistributorFullError";
  }
}

/** A program is neither cached nor known to the manager. */
export class ProgramNotFoundError extends NotFoundError {
  constructor(hash: string, options?: ErrorOptions) {
    super("program", hash, options);
    this.name = "ProgramNotFoundError";
  }
}

/** The manager could not be reached for something only it can answer (an uncached program). */
export class ManagerUnavailableError extends UnavailableError {
  constructor(what: string, options?: ErrorOptions) {
    super(`manager unreachable: ${what}`, options);
    this.name = "ManagerUnavailableError";
  }
}

/** A client tried to join before the distributor registered with a manager (it knows no program key yet). */
export class NotRegisteredError extends UnavailableError {
  constructor() {
    super("distributor not registered with a manager yet: try again shortly");
    this.name = "NotRegisteredError";
  }
}

/** A Report or Work request breaks a limit or carries a malformed field. */
export class BadClientRequestError extends InvalidArgumentError {
  constructor(field: string, message: string) {
    super(field, message);
    this.name = "BadClientRequestError";
  }
}
