import type { ClientIdentity } from "./client-identity.js";
import type { Signal } from "./signal.js";

/** A joined client as the work hub tracks it. */
export interface Session {
  clientId: string;
  platform: string;
  joinedAtMs: number;
  lastSeenMs: number;
  /** Last Report (results, returns or an empty heartbeat) or stream open, ms. */
  lastHeardMs: number;
  /** The heartbeat interval the client was told at Join, ms (it is silent after three). */
  heartbeatMs: number;
  /** Error results in a row since the last OK one. */
  errorStreak: number;
  results: number;
  stream: Stream | undefined;
  /** When its last Work stream ended, while it has none (its session ends after `sessionGapMs`), ms. */
  leftAtMs: number | undefined;
  /** Who the client is beyond this session (vouched for in its results). */
  identity: ClientIdentity;
  /** The identity's tags (see client-identity.ts `identityTags`): sessions sharing one are one volunteer. */
  tags: readonly string[];
}

/** One open Work stream of a client. */
export interface Stream {
  /** The client's credit: most tasks in its hands at once (WorkRequest.slots, or a Report's). */
  slots: number;
  /**
   * Copies sent on this stream and not reported. A copy whose client lease ended still counts: the
   * client is still busy with it (it was re-issued to others, and a late result is welcome).
   */
  outstanding: Set<string>;
  /** When this stream last handed out tasks, ms (paces a client held back for its errors). */
  lastGiveMs: number;
  /** While a held-back client waits: when it may have its next task, ms. */
  holdUntilMs: number | undefined;
  /** When copies refused to this client (it had their units) may be its own: look for work again then, ms. */
  retryAtMs: number | undefined;
  /** Copies this stream handed out that were dropped since (cancelled units): sent as a cancel message. */
  cancelled: string[];
  /** Copies became ready since this stream last looked for some (it looks again before it sleeps). */
  readyPending: boolean;
  wake: Signal;
  abort: AbortController;
  done: Promise<void>;
}

/** A session just joined (or seen again after a restart) at `nowMs`, told to heartbeat every `heartbeatMs`. */
export function newSession(clientId: string, platform: string, nowMs: number, heartbeatMs: number, identity: ClientIdentity, tags: readonly string[]): Session {
  return { clientId, platform, joinedAtMs: nowMs, lastSeenMs: nowMs, lastHeardMs: nowMs, heartbeatMs, errorStreak: 0, results: 0, stream: undefined, leftAtMs: undefined, identity, tags };
}
