/**
 * The public face of the browser embed: `window.disio`, as typed in the `client.d.ts` served next
 * to client.js. Sites depend on it: keep it stable.
 */

/** Where the embed stands. */
export type DisioState = "idle" | "connecting" | "running" | "paused" | "stopping" | "stopped" | "failed";

/** What `disio.stats()` returns. */
export interface DisioStats {
  /** Where the embed stands. */
  state: DisioState;
  /** Base URL of the distributor this page computes for (after redirects). */
  distributor: string;
  /** Web Workers computing units. */
  threads: number;
  /** Tasks computed and acknowledged by the distributor. */
  tasksDone: number;
  /** Tasks that ended in an error (reported as such). */
  tasksFailed: number;
  /** Units finished per second over the last 10 seconds. */
  unitsPerSecond: number;
  /** Projects this page computed units of. */
  projectIds: string[];
}

/** Payloads of the events of `disio.on`. */
export interface DisioEvents {
  /** The state changed. */
  state: { state: DisioState };
  /** A task was handed to this page's threads. */
  task: { copyId: string; projectId: string };
  /** A task finished here (`ok` false: it threw, timed out or could not be encoded). */
  result: { copyId: string; projectId: string; ok: boolean; durationMs: number; error?: string };
  /** Something went wrong: a program refused (bad signature), a lost connection, a failed report. */
  error: { message: string; kind: "program" | "connection" | "report" | "fatal" };
}

/** `window.disio`. */
export interface DisioApi {
  /** Starts computing (needed when the tag says `data-autostart="false"`, e.g. after consent). */
  start(): void;
  /** Stops: hands unfinished tasks back, reports finished ones, ends every thread; then sends nothing more. */
  stop(): Promise<void>;
  /** Counters and state now. */
  stats(): DisioStats;
  /** Subscribes to an event. */
  on<K extends keyof DisioEvents>(event: K, listener: (payload: DisioEvents[K]) => void): void;
  /** Unsubscribes a listener given to `on`. */
  off<K extends keyof DisioEvents>(event: K, listener: (payload: DisioEvents[K]) => void): void;
}

declare global {
  interface Window {
    /** The dis.io browser client, set by client.js. */
    disio: DisioApi;
  }
}
