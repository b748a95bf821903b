import type * as http from "node:http";
import type * as http2 from "node:http2";

/** A request listener both the `node:http` and the `node:http2` server accept. */
export type HttpListener = (
  req: http.IncomingMessage | http2.Http2ServerRequest,
  res: http.ServerResponse | http2.Http2ServerResponse,
) => void;

/** The path of a request target without its query string. */
export function requestPath(url: string | undefined): string {
  if (url === undefined) return "/";
  const q = url.indexOf("?");
  return q === -1 ? url : url.slice(0, q);
}
