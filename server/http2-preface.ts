/** The bytes every HTTP/2 client sends first (RFC 9113 §3.4), "prior knowledge" h2c included. */
export const HTTP2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

/**
 * What the first bytes of a connection say about its protocol: `"h2"` once the whole HTTP/2
 * preface arrived, `"more"` while the bytes so far are a proper prefix of it (a partial first read),
 * `"http1"` as soon as they differ from it (HTTP/1.x, or garbage the HTTP/1 parser rejects).
 */
export function classifyPreface(head: Uint8Array): "h2" | "http1" | "more" {
  const n = Math.min(head.length, HTTP2_PREFACE.length);
  for (let i = 0; i < n; i++) {
    if (head[i] !== HTTP2_PREFACE[i]) return "http1";
  }
  return head.length >= HTTP2_PREFACE.length ? "h2" : "more";
}
