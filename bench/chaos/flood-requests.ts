import { request } from "node:http";

/** What a flood of POSTs got back. */
export interface FloodOutcome {
  sent: number;
  /** Requests answered with an HTTP status (any status: a refusal is an answer). */
  answered: number;
  /** Requests reset, or not answered within the timeout. */
  unanswered: number;
  /** How many of each status came back, e.g. `{ "401": 24 }`, and of each failure, e.g. `{ "no answer: ECONNRESET": 1 }`. */
  statuses: Record<string, number>;
}

/** POSTs `body` once on its own connection; resolves with the status, or why there was none. */
function postOnce(url: URL, body: Buffer, contentType: string, timeoutMs: number): Promise<{ status?: number; failure?: string }> {
  return new Promise((done) => {
    let status: number | undefined;
    const resolve = (answered: number | undefined, error?: NodeJS.ErrnoException) =>
      done(answered !== undefined ? { status: answered } : { failure: `no answer: ${error?.code ?? error?.message ?? "closed"}` });
    const req = request(url, { method: "POST", agent: false, timeout: timeoutMs, headers: { "content-type": contentType, "content-length": body.length } });
    req.on("response", (response) => {
      status = response.statusCode;
      response.resume();
      response.on("end", () => resolve(status));
      response.on("error", () => resolve(status));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    // An error after the answer (the server closed before the whole body went) still counts as answered.
    req.on("error", (error: NodeJS.ErrnoException) => resolve(status, error));
    req.end(body);
  });
}

/**
 * Sends `count` concurrent POSTs of `body` (the same buffer, never copied) to `url`, each on its own
 * connection and with no credentials, and counts the answers.
 */
export async function floodPost(url: string, body: Buffer, contentType: string, count: number, timeoutMs = 120_000): Promise<FloodOutcome> {
  const target = new URL(url);
  const results = await Promise.all(Array.from({ length: count }, () => postOnce(target, body, contentType, timeoutMs)));
  const statuses: Record<string, number> = {};
  for (const { status, failure } of results) {
    const key = status !== undefined ? String(status) : (failure as string);
    statuses[key] = (statuses[key] ?? 0) + 1;
  }
  const answered = results.filter((result) => result.status !== undefined).length;
  return { sent: count, answered, unanswered: count - answered, statuses };
}
