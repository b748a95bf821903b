import type { Logger } from "pino";
import type { PeerInfo } from "../redirect-peer.js";
import { MAX_GIVEN_KEPT, type EndedSession, type GivenCopyRecord } from "../heartbeat-ledger.js";
import { sleep } from "../signal.js";

/** The load a heartbeat reports. */
export interface HeartbeatLoad {
  heldCopies: number;
  clients: number;
  bufferedResults: number;
  freeSlots: number;
  endedSessions: EndedSession[];
  /** Copies given to clients since the last heartbeat, still unreported. */
  givenCopies: GivenCopyRecord[];
}

/** The manager's directives. */
export interface Directives {
  /** Stop leasing. */
  drain: boolean;
  /** Units whose copies must be dropped. */
  cancelledUnitIds: string[];
  /** Projects whose copies must not be handed out. */
  pausedProjectIds: string[];
  /** Other distributors of the group. */
  peers: PeerInfo[];
}

/** What the heartbeat loop needs. */
export interface HeartbeatLoopDeps {
  /** The load now (ended sessions are taken: they are reported once). */
  load(): Promise<HeartbeatLoad>;
  /** Sends a heartbeat; resolves to the directives. */
  send(load: HeartbeatLoad, signal: AbortSignal): Promise<Directives>;
  /** Applies the directives. */
  apply(directives: Directives): Promise<void>;
  /** Period, ms (the manager's setting). */
  intervalMs(): number;
  log: Logger;
}

/** Most ended sessions carried over from failed heartbeats. */
const MAX_CARRIED_SESSIONS = 10_000;

/**
 * Heartbeats the manager every interval and applies its directives (drain, cancelled units, paused
 * projects, peers). Ended sessions and given copies of a failed heartbeat are sent with the next
 * one. Runs until `signal` aborts.
 */
export async function runHeartbeatLoop(deps: HeartbeatLoopDeps, signal: AbortSignal): Promise<void> {
  const log = deps.log.child({ component: "heartbeat-loop" });
  let carried: EndedSession[] = [];
  let carriedGiven: GivenCopyRecord[] = [];
  while (!signal.aborted) {
    let load: HeartbeatLoad | undefined;
    let directives: Directives | undefined;
    try {
      load = await deps.load();
      load.endedSessions = [...carried, ...load.endedSessions].slice(-MAX_CARRIED_SESSIONS);
      load.givenCopies = [...carriedGiven, ...load.givenCopies].slice(-MAX_GIVEN_KEPT);
      directives = await deps.send(load, signal);
      carried = [];
      carriedGiven = [];
    } catch (error) {
      if (signal.aborted) break;
      if (load !== undefined) {
        carried = load.endedSessions;
        carriedGiven = load.givenCopies;
      }
      log.debug({ err: error }, "heartbeat failed");
    }
    if (directives !== undefined) {
      await deps.apply(directives).catch((error: unknown) => log.error({ err: error }, "could not apply manager directives"));
    }
    await sleep(deps.intervalMs(), signal);
  }
}
