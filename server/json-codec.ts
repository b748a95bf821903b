/** Content types of the JSON codec: Connect unary and streaming, gRPC-Web and gRPC. */
const JSON_CONTENT_TYPE = /^application\/(?:json|connect\+json|grpc-web\+json|grpc\+json)(?:;|$)/i;

/**
 * Whether a request speaks the JSON codec (`application/json`, `application/connect+json`,
 * `application/grpc-web+json`, `application/grpc+json`, with or without parameters), read from its
 * content type. Handlers that put data in unknown fields (which only the binary codec carries) use
 * it to send real fields instead.
 */
export function usesJsonCodec(requestHeader: Headers): boolean {
  return isJsonContentType(requestHeader.get("content-type") ?? "");
}

/** Whether a content type is one of the JSON codec's (see {@link usesJsonCodec}). */
export function isJsonContentType(contentType: string): boolean {
  return JSON_CONTENT_TYPE.test(contentType);
}
