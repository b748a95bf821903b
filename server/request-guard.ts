import type * as http from "node:http";
import type * as http2 from "node:http2";
import { Code, ConnectError, type ContextValues } from "@connectrpc/connect";
import { createAsyncIterable, encodeEnvelope, type UniversalServerRequest } from "@connectrpc/connect/protocol";
import { bearerToken, setAuthFailure } from "./auth-interceptor.js";
import { refuseBody } from "./body-admission.js";
import { usesJsonCodec } from "./json-codec.js";
import { principalKey } from "./principal-key.js";
import type { Authenticate, ServicePolicy } from "./server-options.js";

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

/** A request on its way to connect, with the context values its call will see. */
export type GuardedRequest = UniversalServerRequest & { contextValues: ContextValues };

/** Decides what of a request body connect gets to read. */
export interface RequestGuard {
  /**
   * Authenticates the call from its headers, then meters its body against its method's limit and
   * the server's in-flight budget. Returns the request to hand connect: with the principal in its
   * context values; with an empty message instead of the body when the token was refused (the auth
   * interceptor then fails the call); with a body that fails with ResourceExhausted when it is, or
   * grows, too large. Bodies connect does not read are drained and discarded, never destroyed, so
   * the caller gets its answer on a connection that stays usable.
   */
  admit(req: NodeRequest, res: NodeResponse, call: GuardedRequest, service: string, method: string): Promise<GuardedRequest>;
}

/** Options of {@link createRequestGuard}. */
export interface RequestGuardOptions {
  policies: readonly ServicePolicy[];
  /** The most body bytes one request of `service`/`method` may send. */
  methodReadMaxBytes: (service: string, method: string) => number;
  /** The most body bytes all requests together may hold. */
  inFlightMaxBytes: number;
}

/** Creates the {@link RequestGuard} of one server (one in-flight budget). */
export function createRequestGuard(options: RequestGuardOptions): RequestGuard {
  const auth = new Map<string, { authenticate: Authenticate; anonymous: ReadonlySet<string> }>();
  for (const policy of options.policies) {
    if (policy.authenticate === undefined) continue;
    auth.set(policy.service, { authenticate: policy.authenticate, anonymous: new Set(policy.anonymousMethods ?? []) });
  }
  let inFlight = 0;

  return {
    async admit(req, res, call, service, method) {
      let held = 0;
      res.once("close", () => {
        inFlight -= held;
        held = 0;
        discardBody(req);
      });
      const policy = auth.get(service);
      if (policy !== undefined && !policy.anonymous.has(method)) {
        try {
          const token = bearerToken(call.header.get("authorization"));
          call.contextValues.set(principalKey, await policy.authenticate({ service, method, token }));
        } catch (error) {
          setAuthFailure(call.contextValues, error);
          return withEmptyMessage(call);
        }
      }

      const limits = { methodMaxBytes: options.methodReadMaxBytes(service, method), inFlightMaxBytes: options.inFlightMaxBytes };
      const hold = (bytes: number): ConnectError | undefined => {
        const reason = refuseBody(bytes, held, inFlight, limits);
        if (reason !== undefined) return new ConnectError(reason, Code.ResourceExhausted);
        if (bytes > held) {
          inFlight += bytes - held;
          held = bytes;
        }
        return undefined;
      };
      const declared = Number(call.header.get("content-length") ?? Number.NaN);
      if (Number.isSafeInteger(declared) && declared >= 0) {
        const refusal = hold(declared);
        if (refusal !== undefined) return { ...call, body: failing(refusal) };
      }
      return { ...call, body: metered(req, hold) };
    },
  };
}

/** The body of `req`, failing with `hold`'s refusal once the bytes so far are refused. */
async function* metered(req: NodeRequest, hold: (bytes: number) => ConnectError | undefined): AsyncIterable<Uint8Array> {
  let received = 0;
  let refusal: ConnectError | undefined;
  // As in connect-node, leaving the loop destroys the request, not its connection: node discards
  // the rest of the body, and the caller reads our answer (resuming it instead, node closed HTTP/1.1
  // connections under callers still sending, who then got EPIPE and no answer).
  for await (const chunk of req as AsyncIterable<Buffer>) {
    received += chunk.byteLength;
    refusal = hold(received);
    if (refusal !== undefined) break;
    yield chunk;
  }
  if (refusal !== undefined) throw refusal;
}

async function* failing(error: ConnectError): AsyncIterable<Uint8Array> {
  throw error;
}

/**
 * Reads the rest of a body connect never started into nothing, once the answer is out, so it costs
 * no memory and an HTTP/2 caller is not stalled on flow control.
 */
function discardBody(req: NodeRequest): void {
  if (!req.readableEnded && !req.destroyed) req.resume();
}

const EMPTY_JSON_MESSAGE = new TextEncoder().encode("{}");

/**
 * The call with an empty request message in its protocol's framing (an envelope for gRPC,
 * gRPC-Web and Connect streaming; bare for Connect unary) and codec, uncompressed.
 */
function withEmptyMessage(call: GuardedRequest): GuardedRequest {
  const message = usesJsonCodec(call.header) ? EMPTY_JSON_MESSAGE : new Uint8Array(0);
  const contentType = call.header.get("content-type") ?? "";
  const enveloped = /^application\/(?:grpc|connect\+)/i.test(contentType);
  const body = enveloped ? encodeEnvelope(0, message) : message;
  const header = new Headers(call.header);
  header.delete("content-encoding");
  header.set("content-length", String(body.byteLength));
  return { ...call, header, body: createAsyncIterable([body]) };
}
