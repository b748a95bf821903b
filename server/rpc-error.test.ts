import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
} from "../core/errors.js";
import { INTERNAL_ERROR_MESSAGE, isServerFault, toConnectError } from "./rpc-error.js";

const live = new AbortController().signal;

describe("toConnectError", () => {
  const domain: [Error, Code][] = [
    [new InvalidArgumentError("quorum", "must be ≥ 1"), Code.InvalidArgument],
    [new NotFoundError("project", "p1"), Code.NotFound],
    [new AlreadyExistsError("project exists"), Code.AlreadyExists],
    [new PermissionDeniedError("not yours"), Code.PermissionDenied],
    [new UnauthenticatedError("no token"), Code.Unauthenticated],
    [new ResourceExhaustedError("too many"), Code.ResourceExhausted],
    [new FailedPreconditionError("done"), Code.FailedPrecondition],
    [new UnavailableError("manager down"), Code.Unavailable],
  ];
  for (const [error, code] of domain) {
    it(`${error.name} → ${Code[code]}, keeping the message and cause`, () => {
      const mapped = toConnectError(error, live);
      expect(mapped.code).toBe(code);
      expect(mapped.rawMessage).toBe(error.message);
      expect(mapped.cause).toBe(error);
    });
  }

  it("passes ConnectErrors through unchanged", () => {
    const error = new ConnectError("slow", Code.DeadlineExceeded);
    expect(toConnectError(error, live)).toBe(error);
  });

  it("hides unknown errors behind Internal with a generic message", () => {
    const mapped = toConnectError(new Error("SQLITE_CORRUPT at /secret/path"), live);
    expect(mapped.code).toBe(Code.Internal);
    expect(mapped.rawMessage).toBe(INTERNAL_ERROR_MESSAGE);
  });

  it("reports the signal's reason when the call was aborted", () => {
    const controller = new AbortController();
    controller.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded));
    const mapped = toConnectError(new DOMException("aborted", "AbortError"), controller.signal);
    expect(mapped.code).toBe(Code.DeadlineExceeded);
  });
});

describe("isServerFault", () => {
  it("is true for Internal, Unknown, DataLoss only", () => {
    const faults = Object.values(Code)
      .filter((c): c is Code => typeof c === "number")
      .filter(isServerFault);
    expect(faults.sort()).toEqual([Code.Unknown, Code.Internal, Code.DataLoss].sort());
  });
});
