import { heartbeatDue } from "./heartbeat-due.js";

/** How often {@link Heartbeats} looks whether a heartbeat or a hand-back is due, ms. */
const TICK_MS = 500;

/** What {@link Heartbeats} needs of its client handler. */
export interface HeartbeatsDeps {
  /** The current session's heartbeat interval (JoinResponse.heartbeat_interval), ms; undefined: none. */
  intervalMs(): number | undefined;
  /** Whether there is a session to send on. */
  connected(): boolean;
  /** Sends a Report with no results on the current session, handing back `returnedCopyIds`. */
  send(returnedCopyIds: string[]): Promise<void>;
  /** Copies were handed back. */
  onReturned(tasks: number): void;
  /** A heartbeat failed (it is tried again). */
  onFailed(error: unknown): void;
  now(): number;
  /** Sleeps, cut short when the handler stops. */
  sleep(ms: number): Promise<void>;
  stopped(): boolean;
}

/**
 * The client's side of liveness: hands copies back at once (unstarted tasks the distributor should
 * give to others), and sends an empty Report whenever nothing was reported for the distributor's
 * heartbeat interval, since a client silent for three is taken for dead: its tasks are re-issued
 * and it no longer counts as connected.
 */
export class Heartbeats {
  #returns: string[] = [];
  #lastSentMs = 0;

  constructor(
    private readonly deps: HeartbeatsDeps,
    /** Most copies handed back in one Report. */
    private readonly maxBatch: number,
  ) {}

  /** Notes that a Report went out on the current session (any Report shows we are alive). */
  sent(): void {
    this.#lastSentMs = this.deps.now();
  }

  /** Queues copies of the current session to be handed back with the next tick. */
  handBack(copyIds: readonly string[]): void {
    this.#returns.push(...copyIds);
  }

  /** Takes the copies waiting to be handed back (the caller sends them itself). */
  takeReturns(): string[] {
    const returns = this.#returns;
    this.#returns = [];
    return returns;
  }

  /** A new session: copies waiting to go back under the old one are dropped (that stream's end requeued them). */
  reset(): void {
    this.#returns = [];
  }

  /** Runs until the handler stops. */
  async run(): Promise<void> {
    while (!this.deps.stopped()) {
      await this.deps.sleep(TICK_MS);
      if (this.deps.stopped() || !this.deps.connected()) continue;
      const state = { returnsWaiting: this.#returns.length, lastSentMs: this.#lastSentMs, intervalMs: this.deps.intervalMs() };
      if (!heartbeatDue(state, this.deps.now())) continue;
      const sending = this.#returns.splice(0, this.maxBatch);
      this.sent();
      try {
        await this.deps.send(sending);
        if (sending.length > 0) this.deps.onReturned(sending.length);
      } catch (error) {
        this.#returns.unshift(...sending);
        this.deps.onFailed(error);
      }
    }
  }
}
