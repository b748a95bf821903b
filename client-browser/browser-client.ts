import type { Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { fromBase64 } from "../core/base64.js";
import { createBinaryDistributorClient } from "../core/client/binary-distributor-client.js";
import { ClientHandler } from "../core/client/client-handler.js";
import type { ClientHandlerState } from "../core/client/client-handler-events.js";
import type { RunnableTask, UnitResult } from "../core/client/unit-processor.js";
import type { DisioApi, DisioEvents, DisioState, DisioStats } from "./disio-api.js";
import { browserClientKey, pageStorage } from "./client-key.js";
import { browserEd25519Verify } from "./ed25519-verify.js";
import type { EmbedOptions } from "./embed-options.js";
import { IframeProcessor } from "./iframe-processor.js";
import { keepaliveReport } from "./keepalive-report.js";
import { localStorageKeyMemory } from "./local-storage-key-memory.js";
import { RateWindow } from "./rate-window.js";

/** Wall-clock limit of one unit when the distributor sets none, ms. */
const DEFAULT_UNIT_LIMIT_MS = 5 * 60_000;
/** Most tasks a page holds (its hand-back must fit one keepalive request). */
const MAX_PAGE_SLOTS = 1024;

const STATES: Record<ClientHandlerState, DisioState> = {
  initialized: "idle",
  connecting: "connecting",
  running: "running",
  paused: "paused",
  draining: "stopping",
  stopped: "stopped",
  failed: "failed",
};

type Listener = (payload: never) => void;

/**
 * `window.disio`: the shared client handler core over connect-web, with units run by an
 * {@link IframeProcessor}. Pauses while the tab is hidden (when asked to) and as the page goes,
 * handing its tasks back and flushing its results with a keepalive request; resumes when visible.
 */
export class BrowserClient implements DisioApi {
  private handler: ClientHandler | undefined;
  private lifecycle: DisioState = "idle";
  private distributor: string;
  private stopping: Promise<void> | undefined;
  private pausedFor: "hidden" | "pagehide" | undefined;
  private done = 0;
  private failed = 0;
  private readonly rate = new RateWindow(10_000);
  private readonly projects = new Set<string>();
  private readonly projectOf = new Map<string, string>();
  private readonly listeners = new Map<keyof DisioEvents, Set<Listener>>();
  private readonly transports = new Map<string, Transport>();

  constructor(
    private readonly options: EmbedOptions,
    private readonly runnerUrl: string,
  ) {
    this.distributor = options.distributor;
  }

  start(): void {
    if (this.handler !== undefined && this.stopping === undefined) return;
    const trustKey = this.options.trust === undefined ? undefined : fromBase64(this.options.trust);
    if (this.options.trust !== undefined && trustKey?.length !== 32) return this.refuse("data-trust is not a manager key (base64 of 32 bytes)");
    const storage = pageStorage();
    const processor = new IframeProcessor({
      runnerUrl: this.runnerUrl,
      threads: this.options.threads,
      cpu: this.options.cpu,
      defaultLimitMs: DEFAULT_UNIT_LIMIT_MS,
      observer: { tasks: (tasks) => this.onTasks(tasks), results: (results) => this.onResults(results) },
    });
    const handler = new ClientHandler(
      {
        distributorUrl: this.options.distributor,
        platform: "browser",
        userAgent: navigator.userAgent,
        clientKey: browserClientKey(storage),
        ...(trustKey !== undefined && { trustKey }),
        maxSlots: Math.max(processor.slots, Math.min(MAX_PAGE_SLOTS, processor.slots * 16)),
        maxBytesInHand: 16 * 1024 * 1024,
      },
      {
        processor,
        connect: (url) => createBinaryDistributorClient(this.transport(url)),
        verify: browserEd25519Verify,
        keys: localStorageKeyMemory(storage),
      },
    );
    this.handler = handler;
    this.stopping = undefined;
    handler.on("state", ({ state }) => this.setState(this.stopping !== undefined && state !== "stopped" && state !== "failed" ? "stopping" : STATES[state]));
    handler.on("joined", ({ distributorUrl }) => (this.distributor = distributorUrl));
    handler.on("programRejected", ({ reason }) => this.emit("error", { message: reason, kind: "program" }));
    handler.on("disconnected", ({ error }) => this.emit("error", { message: error.message, kind: "connection" }));
    handler.on("reportFailed", ({ error }) => this.emit("error", { message: error.message, kind: "report" }));
    handler.on("failed", ({ error }) => this.emit("error", { message: error.message, kind: "fatal" }));
    addEventListener("visibilitychange", this.onVisibility);
    addEventListener("pagehide", this.onPageHide);
    addEventListener("pageshow", this.onPageShow);
    handler.start();
    if (document.visibilityState === "hidden") this.onVisibility();
  }

  stop(): Promise<void> {
    const handler = this.handler;
    if (handler === undefined) return Promise.resolve();
    this.stopping ??= (async () => {
      this.setState("stopping");
      removeEventListener("visibilitychange", this.onVisibility);
      removeEventListener("pagehide", this.onPageHide);
      removeEventListener("pageshow", this.onPageShow);
      await handler.suspend(keepaliveReport);
      await handler.stop({ graceMs: 0 });
      const stats = handler.stats();
      this.done += stats.completed;
      this.failed += stats.failed;
      this.handler = undefined;
      this.projectOf.clear();
      this.setState("stopped");
    })();
    return this.stopping;
  }

  stats(): DisioStats {
    const live = this.handler?.stats();
    return {
      state: this.lifecycle,
      distributor: this.distributor,
      threads: this.options.threads,
      tasksDone: this.done + (live?.completed ?? 0),
      tasksFailed: this.failed + (live?.failed ?? 0),
      unitsPerSecond: this.rate.perSecond(performance.now()),
      projectIds: [...this.projects],
    };
  }

  on<K extends keyof DisioEvents>(event: K, listener: (payload: DisioEvents[K]) => void): void {
    let set = this.listeners.get(event);
    if (set === undefined) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener);
  }

  off<K extends keyof DisioEvents>(event: K, listener: (payload: DisioEvents[K]) => void): void {
    this.listeners.get(event)?.delete(listener as Listener);
  }

  private readonly onVisibility = (): void => {
    if (document.visibilityState === "hidden" && this.options.pauseHidden) this.pause("hidden");
    else if (document.visibilityState === "visible" && this.pausedFor === "hidden") this.resume();
  };

  private readonly onPageHide = (): void => this.pause("pagehide");

  private readonly onPageShow = (event: PageTransitionEvent): void => {
    if (event.persisted && this.pausedFor === "pagehide") this.resume();
  };

  private pause(reason: "hidden" | "pagehide"): void {
    if (this.handler === undefined || this.pausedFor !== undefined) return;
    this.pausedFor = reason;
    this.projectOf.clear();
    void this.handler.suspend(keepaliveReport);
  }

  private resume(): void {
    this.pausedFor = undefined;
    this.handler?.resume();
  }

  /** A tag the client cannot run with: nothing starts, state `failed`, an "error" event says why. */
  private refuse(message: string): void {
    this.setState("failed");
    this.emit("error", { message, kind: "fatal" });
  }

  private onTasks(tasks: readonly RunnableTask[]): void {
    for (const task of tasks) {
      this.projectOf.set(task.copyId, task.projectId);
      this.projects.add(task.projectId);
      this.emit("task", { copyId: task.copyId, projectId: task.projectId });
    }
  }

  private onResults(results: readonly UnitResult[]): void {
    const now = performance.now();
    for (const result of results) {
      const projectId = this.projectOf.get(result.copyId);
      if (projectId === undefined) continue;
      this.projectOf.delete(result.copyId);
      this.rate.add(now);
      const outcome = result.outcome;
      this.emit("result", { copyId: result.copyId, projectId, ok: outcome.ok, durationMs: result.durationMs, ...(!outcome.ok && { error: `${outcome.kind}: ${outcome.message}` }) });
    }
  }

  private transport(baseUrl: string): Transport {
    let transport = this.transports.get(baseUrl);
    if (transport === undefined) this.transports.set(baseUrl, (transport = createConnectTransport({ baseUrl, useBinaryFormat: true })));
    return transport;
  }

  private setState(state: DisioState): void {
    if (this.lifecycle === state) return;
    this.lifecycle = state;
    this.emit("state", { state });
  }

  private emit<K extends keyof DisioEvents>(event: K, payload: DisioEvents[K]): void {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        (listener as (payload: DisioEvents[K]) => void)(payload);
      } catch (error) {
        // A site's listener that throws must not stop the client.
        setTimeout(() => {
          throw error;
        });
      }
    }
  }
}
