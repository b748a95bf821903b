/** A copy given to a client, for the manager's record of who holds each copy. */
export interface GivenCopyRecord {
  copyId: string;
  clientId: string;
}

/** One client's stay, for the manager's lifespan statistics. */
export interface EndedSession {
  clientId: string;
  platform: string;
  joinedAtMs: number;
  lastSeenMs: number;
  results: number;
}

/** Most ended sessions kept for the next heartbeat. */
const MAX_ENDED_SESSIONS = 10_000;
/**
 * Most given copies kept for the next heartbeat, and carried over a failed one (past it, e.g. while
 * the manager is down, the oldest go); half the 100,000 a heartbeat may carry.
 */
export const MAX_GIVEN_KEPT = 50_000;

/**
 * What the next heartbeat tells the manager about clients: the copies given since the last one
 * (with who holds them) and the sessions that ended. Bounded: past its caps the oldest go.
 */
export class HeartbeatLedger {
  /**
   * Copies given since the last {@link takeGivenCopies}, a batch per stream message with the set of
   * its stream's unreported copies (kept after the stream ends: a vanished client's copies count).
   */
  #given: Array<{ clientId: string; copyIds: string[]; outstanding: ReadonlySet<string> }> = [];
  /** Copies in {@link #given}. */
  #givenCount = 0;
  #ended: EndedSession[] = [];

  /** Records a Work message's copies; past {@link MAX_GIVEN_KEPT} the oldest go. */
  noteGiven(clientId: string, copyIds: string[], outstanding: ReadonlySet<string>): void {
    this.#given.push({ clientId, copyIds, outstanding });
    this.#givenCount += copyIds.length;
    while (this.#givenCount > MAX_GIVEN_KEPT && this.#given.length > 1) {
      this.#givenCount -= (this.#given.shift() as { copyIds: string[] }).copyIds.length;
    }
  }

  /**
   * Copies given since the last call (at most {@link MAX_GIVEN_KEPT}) and still in their client's
   * hands (reported ones carry their client in the Report).
   */
  takeGivenCopies(): GivenCopyRecord[] {
    const out: GivenCopyRecord[] = [];
    for (const { clientId, copyIds, outstanding } of this.#given) {
      for (const copyId of copyIds) if (outstanding.has(copyId)) out.push({ copyId, clientId });
    }
    this.#given = [];
    this.#givenCount = 0;
    return out;
  }

  /** Records an ended session (past {@link MAX_ENDED_SESSIONS} waiting, it is not kept). */
  noteEnded(session: EndedSession): void {
    if (this.#ended.length < MAX_ENDED_SESSIONS) this.#ended.push(session);
  }

  /** Sessions ended since the last call. */
  takeEndedSessions(): EndedSession[] {
    const ended = this.#ended;
    this.#ended = [];
    return ended;
  }
}
