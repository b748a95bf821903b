/** The limits a request body is held to. */
export interface BodyLimits {
  /** Most bytes one request of this method may send. */
  methodMaxBytes: number;
  /** Most request-body bytes all requests together may hold at once. */
  inFlightMaxBytes: number;
}

/**
 * Decides whether a request may hold `bytes` of body — its `Content-Length` before any byte is
 * read, or what it has received so far of a body without one — given the `held` bytes it already
 * counts against the shared budget and the budget's total `inFlight` (`held` included). Returns why
 * it may not (the caller answers ResourceExhausted), or undefined when it may; the request then
 * holds `max(held, bytes)`.
 */
export function refuseBody(bytes: number, held: number, inFlight: number, limits: BodyLimits): string | undefined {
  if (bytes > limits.methodMaxBytes) {
    return `request body larger than ${limits.methodMaxBytes} bytes, the limit of this method`;
  }
  if (bytes > held && inFlight + (bytes - held) > limits.inFlightMaxBytes) {
    return "server busy: too many request bytes in flight, retry later";
  }
  return undefined;
}
