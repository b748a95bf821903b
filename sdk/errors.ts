import { Code, ConnectError } from "@connectrpc/connect";

/** A manager URL that cannot be used, said in words (no scheme, wrong scheme, not a URL). */
export class GridUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GridUrlError";
  }
}

/** A project name or id that names no project, or a name several projects share. */
export class ProjectLookupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProjectLookupError";
  }
}

/** Network failures a caller can do something about, recognised from the error chain's text and codes. */
const TRANSPORT_CAUSES: [RegExp, (url: string) => string][] = [
  [/wrong version number|ssl3_get_record|packet length too long|EPROTO|ERR_SSL/i, (url) => `${url} does not speak TLS: the port answers plain HTTP, so use http:// instead of https://`],
  [/ECONNREFUSED/, (url) => `nothing listens at ${url} (connection refused): is the manager running, and is the port right?`],
  [/ENOTFOUND|EAI_AGAIN/, (url) => `cannot resolve the host of ${url}: check the manager URL`],
  [/ETIMEDOUT|EHOSTUNREACH|ENETUNREACH/, (url) => `cannot reach ${url} (timed out or no route): check the address and the network`],
  [/ECONNRESET|socket hang up/, (url) => `${url} closed the connection: is it a dis.io manager, and does it speak the scheme given (http:// or https://)?`],
];

/** The messages and codes of an error and its causes, joined, to recognise a network failure. */
function chainText(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 6; depth++) {
    const err = e as { message?: unknown; code?: unknown; rawMessage?: unknown; cause?: unknown };
    parts.push(String(err.rawMessage ?? err.message ?? ""), String(err.code ?? ""));
    e = err.cause;
  }
  return parts.join(" ");
}

/**
 * The error as a caller should see it: transport failures to `url` (TLS to a plain port, connection
 * refused, unknown host) become a `ConnectError` with code Unavailable and a sentence saying what is
 * wrong; anything else is returned as it was.
 */
export function explainCallError(error: unknown, url: string): unknown {
  if (error instanceof ConnectError && error.code !== Code.Unavailable && error.code !== Code.Unknown && error.code !== Code.Internal) return error;
  const text = chainText(error);
  for (const [pattern, explain] of TRANSPORT_CAUSES) {
    if (pattern.test(text)) return new ConnectError(explain(url), Code.Unavailable, undefined, undefined, error);
  }
  return error;
}
