import { Code, ConnectError } from "@connectrpc/connect";
import { createAsyncIterable, encodeEnvelope, type UniversalServerResponse } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorFromJsonBytes, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { findTrailerError, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerParse, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import { isUndecodableRequest, undecodableRequestError } from "./rpc-error.js";

const GRPC_INTERNAL = "13";

/**
 * Rewrites connect's answer to a unary request whose binary body does not decode from `Internal`
 * to `InvalidArgument`, in the wire format of the protocol that answered: the JSON error body and
 * HTTP status of Connect, the trailers of gRPC, the trailer frame of gRPC-Web. connect decodes a
 * unary request before any interceptor runs, so the error interceptor cannot map it (it maps the
 * same error for streaming requests, which decode inside the interceptors). Other responses pass
 * through untouched: a status and a header compared, per gRPC-Web frame one byte.
 */
export async function undecodableAsInvalidArgument(response: UniversalServerResponse): Promise<UniversalServerResponse> {
  if (response.trailer !== undefined) {
    if (response.trailer.get("grpc-status") === GRPC_INTERNAL) rewriteTrailer(response.trailer);
    return response;
  }
  const contentType = response.header?.get("content-type") ?? "";
  if (contentType.startsWith("application/grpc-web") && response.body !== undefined) {
    return { ...response, body: rewriteTrailerFrames(response.body) };
  }
  if (response.status === codeToHttpStatus(Code.Internal) && response.body !== undefined && !response.header?.has("content-encoding")) {
    return rewriteConnectError(response, response.body);
  }
  return response;
}

/** Replaces an undecodable-request status in gRPC trailers; true when it did. */
function rewriteTrailer(trailer: Headers): boolean {
  const error = findTrailerError(trailer);
  if (error === undefined || !isUndecodableRequest(error)) return false;
  setTrailerStatus(trailer, undecodableRequestError(error));
  return true;
}

async function* rewriteTrailerFrames(body: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  for await (const chunk of body) {
    // Frames arrive whole (connect joins each envelope into one chunk); compressed trailers keep theirs.
    if (chunk[0] === trailerFlag) {
      const trailer = trailerParse(chunk.subarray(5));
      if (trailer.get("grpc-status") === GRPC_INTERNAL && rewriteTrailer(trailer)) {
        yield encodeEnvelope(trailerFlag, trailerSerialize(trailer));
        continue;
      }
    }
    yield chunk;
  }
}

async function rewriteConnectError(response: UniversalServerResponse, body: AsyncIterable<Uint8Array>): Promise<UniversalServerResponse> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  const bytes = Buffer.concat(chunks);
  let error: ConnectError;
  try {
    error = errorFromJsonBytes(bytes, undefined, new ConnectError("", Code.Internal));
  } catch {
    return { ...response, body: createAsyncIterable([bytes]) };
  }
  if (!isUndecodableRequest(error)) return { ...response, body: createAsyncIterable([bytes]) };
  const replaced = errorToJsonBytes(undecodableRequestError(error), {});
  const header = new Headers(response.header);
  header.set("content-length", String(replaced.byteLength));
  return { ...response, status: codeToHttpStatus(Code.InvalidArgument), header, body: createAsyncIterable([replaced]) };
}
