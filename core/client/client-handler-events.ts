/** The lifecycle, counters and events a `ClientHandler` exposes to its host. */
import type { ConnectError } from "@connectrpc/connect";

/** Lifecycle of a `ClientHandler` (`paused`: suspended by its host, e.g. a hidden browser tab). */
export type ClientHandlerState = "initialized" | "connecting" | "running" | "paused" | "draining" | "stopped" | "failed";

/** Counters of a `ClientHandler`. */
export interface ClientHandlerStats {
  /** Results with an output that the distributor acknowledged. */
  completed: number;
  /** Error results that the distributor acknowledged. */
  failed: number;
  /** Tasks in hand: received and not yet acknowledged (or dropped). */
  inFlight: number;
}

/** Events of a `ClientHandler`, by name. The core never logs: the host logs these. */
export interface ClientHandlerEvents {
  /** The lifecycle moved. */
  state: { state: ClientHandlerState };
  /** A session started. */
  joined: { clientId: string; distributorUrl: string; taskLeaseMs: number | undefined; maxRunTimeMs: number | undefined };
  /**
   * A Join settled which manager key programs are verified with (base64; undefined when none is
   * known): `pinned` (the trust key), `remembered` (trusted before for this URL), `first-use`
   * (trusted now, on first contact: a host should say so loudly, with the key, so an operator can
   * compare it with the key the manager printed) or `none`.
   */
  trusted: { distributorUrl: string; groupId: string; publicKey: string | undefined; how: "pinned" | "remembered" | "first-use" | "none" };
  /** Join was redirected to a peer. */
  redirected: { from: string; to: string };
  /** A Work stream opened with this credit. */
  streamOpened: { slots: number };
  /**
   * The credit changed (sent with the next Report, the stream stays open): it grew because units
   * run fast, or shrank because tasks are large (see `maxBytesInHand`).
   */
  creditChanged: { slots: number };
  /** The Work stream (or Join) failed; the handler retries after `retryInMs`. */
  disconnected: { error: ConnectError; retryInMs: number; rejoin: boolean };
  /** The distributor asked the client to stop taking tasks (it is draining). */
  paused: Record<string, never>;
  /** A Report call was acknowledged. */
  reported: { results: number; accepted: number; duplicates: number; refused: number; completed: number; failed: number; roundTripMs: number };
  /** A Report call failed: `dropped` results will never be reported (the distributor refused them). */
  reportFailed: { error: ConnectError; results: number; dropped: boolean };
  /** A program failed to verify (or is unknown): its tasks are reported as errors of kind "program". */
  programRejected: { hash: string; reason: string; tasks: number };
  /** A program could not be fetched (the distributor or its manager is unreachable): its tasks are handed back, no attempt used. */
  programUnavailable: { hash: string; reason: string; tasks: number };
  /** Copies were handed back unstarted. */
  returned: { tasks: number };
  /** The distributor cancelled tasks in our hands (their units were cancelled): they are not run, or their results are dropped. */
  cancelled: { tasks: number };
  /** A heartbeat (or hand-back) Report failed; it is tried again. */
  heartbeatFailed: { error: ConnectError };
  /** The Work stream was reopened because the distributor counted more tasks in our hands than we hold. */
  streamResynced: { counted: number; holding: number };
  /** The handler gave up (e.g. the manager key is not the pinned or remembered one: `TrustKeyMismatchError`). */
  failed: { error: Error };
}

