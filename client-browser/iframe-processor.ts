import type { RunnableTask, UnitProcessor, UnitResult } from "../core/client/unit-processor.js";
import { CONNECT_MESSAGE, type PageMessage, type RunnerMessage, type WireProgram, type WorkerTask } from "./runner-messages.js";

/** Settings of an {@link IframeProcessor}. */
export interface IframeProcessorOptions {
  /** URL of the distributor's `runner.html`. */
  runnerUrl: string;
  /** Web Workers (threads) to run units on. */
  threads: number;
  /** Share of each thread to use, 0.1..1 (a duty cycle between units). */
  cpu: number;
  /** Wall-clock limit of one unit when the distributor sets none, ms. */
  defaultLimitMs: number;
  /** Told of tasks handed to the threads and of results as they come back (for the page's events). */
  observer?: { tasks(tasks: readonly RunnableTask[]): void; results(results: readonly UnitResult[]): void };
}

/** Tasks wanted in hand per thread: one running, one next, a few on the way. */
const SLOTS_PER_THREAD = 4;

/**
 * The browser's unit processor: runs tasks in a hidden `<iframe sandbox="allow-scripts">` served by
 * the distributor, whose Web Workers do the computing, and talks to it over a private
 * MessageChannel. Programs go to the iframe once per hash. {@link IframeProcessor.abandon} drops
 * every task (results of earlier generations are ignored); {@link IframeProcessor.stop} removes the
 * iframe and with it every worker.
 */
export class IframeProcessor implements UnitProcessor {
  readonly slots: number;
  readonly executors: number;
  private readonly frame: HTMLIFrameElement;
  private readonly channel = new MessageChannel();
  private readonly programsSent = new Set<string>();
  private listener: (results: UnitResult[]) => void = () => undefined;
  private generation = 0;
  private stopped = false;
  /** Settles when the runner answered `ready`. */
  readonly ready: Promise<void>;

  constructor(private readonly options: IframeProcessorOptions) {
    this.executors = options.threads;
    this.slots = options.threads * SLOTS_PER_THREAD;
    const frame = document.createElement("iframe");
    frame.setAttribute("sandbox", "allow-scripts");
    frame.setAttribute("aria-hidden", "true");
    frame.title = "dis.io compute";
    frame.style.cssText = "position:absolute;width:0;height:0;border:0;visibility:hidden";
    frame.src = options.runnerUrl;
    this.frame = frame;
    const port = this.channel.port1;
    this.ready = new Promise((resolve) => {
      port.onmessage = (event: MessageEvent<RunnerMessage>) => {
        const message = event.data;
        if (message.type === "ready") resolve();
        else if (message.type === "results" && message.generation === this.generation && !this.stopped) {
          options.observer?.results(message.results);
          this.listener(message.results);
        }
      };
    });
    // Messages wait in the channel until the runner takes its port: init goes first, then tasks.
    this.send({ type: "init", threads: options.threads, cpu: options.cpu });
    frame.addEventListener("load", () => frame.contentWindow?.postMessage(CONNECT_MESSAGE, "*", [this.channel.port2]), { once: true });
    (document.body ?? document.documentElement).appendChild(frame);
  }

  run(tasks: readonly RunnableTask[]): void {
    if (this.stopped) return;
    const programs: WireProgram[] = [];
    const wire: WorkerTask[] = tasks.map((task) => {
      if (!this.programsSent.has(task.programHash)) {
        this.programsSent.add(task.programHash);
        programs.push({ hash: task.programHash, source: task.programSource });
      }
      return {
        copyId: task.copyId,
        programHash: task.programHash,
        input: task.input,
        inputEncoding: task.inputEncoding,
        outputEncoding: task.outputEncoding,
        limitMs: task.maxRunTimeMs ?? this.options.defaultLimitMs,
      };
    });
    this.send({ type: "run", generation: this.generation, tasks: wire, programs });
    this.options.observer?.tasks(tasks);
  }

  onResults(listener: (results: UnitResult[]) => void): void {
    this.listener = listener;
  }

  abandon(): void {
    this.generation++;
    this.send({ type: "abandon", generation: this.generation });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.send({ type: "stop" });
    this.channel.port1.close();
    this.frame.remove();
  }

  private send(message: PageMessage): void {
    this.channel.port1.postMessage(message);
  }
}
