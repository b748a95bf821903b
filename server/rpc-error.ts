import { Code, ConnectError } from "@connectrpc/connect";
import { DisioError, type DisioErrorCode } from "../core/errors.js";

const codeOfDisioCode: Record<DisioErrorCode, Code> = {
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  permission_denied: Code.PermissionDenied,
  unauthenticated: Code.Unauthenticated,
  resource_exhausted: Code.ResourceExhausted,
  failed_precondition: Code.FailedPrecondition,
  unavailable: Code.Unavailable,
};

/** The message callers see for errors we did not expect; details stay in our log. */
export const INTERNAL_ERROR_MESSAGE = "internal error";

/**
 * Maps anything a handler threw to the `ConnectError` the caller receives: `ConnectError`s pass
 * through, domain errors get their code and message, an abort caused by the call's own signal
 * (deadline, client cancel, shutdown) reports the signal's reason, and everything else becomes
 * `Internal` with a generic message so no internals leak.
 */
export function toConnectError(error: unknown, signal: AbortSignal): ConnectError {
  if (error instanceof ConnectError) return isUndecodableRequest(error) ? undecodableRequestError(error) : error;
  if (error instanceof DisioError) {
    return new ConnectError(error.message, codeOfDisioCode[error.code], undefined, undefined, error);
  }
  if (signal.aborted) return ConnectError.from(signal.reason);
  return new ConnectError(INTERNAL_ERROR_MESSAGE, Code.Internal, undefined, undefined, error);
}

/** How connect-es starts the message of a request body that is not valid binary protobuf. */
const PARSE_BINARY_PREFIX = "parse binary: ";

/**
 * Whether connect refused a request because its binary body does not decode. connect-es reports
 * that as `Internal` ("parse binary: …"), though a body the server cannot parse is the caller's
 * fault (its JSON twin is already `InvalidArgument`).
 */
export function isUndecodableRequest(error: ConnectError): boolean {
  return error.code === Code.Internal && error.rawMessage.startsWith(PARSE_BINARY_PREFIX);
}

/** The `InvalidArgument` a caller gets for a request that {@link isUndecodableRequest}. */
export function undecodableRequestError(error: ConnectError): ConnectError {
  return new ConnectError(error.rawMessage, Code.InvalidArgument, error.metadata);
}

/** Server faults are logged as errors, everything a caller can cause or fix as warnings. */
export function isServerFault(code: Code): boolean {
  return code === Code.Internal || code === Code.Unknown || code === Code.DataLoss;
}
