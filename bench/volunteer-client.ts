import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ClientHandler } from "../core/client/client-handler.js";
import type { RunnableTask, UnitProcessor, UnitResult } from "../core/client/unit-processor.js";
import { DistributorService } from "../gen/disio/v1/distributor_service_pb.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What a volunteer of the trust tests computes for `{ n }`: `{ n, square }`, or a lie. */
export function squareOf(n: number, lie: boolean): { n: number; square: number } {
  return { n, square: lie ? n * n + 1 : n * n };
}

/** Options of {@link startVolunteer}. */
export interface VolunteerOptions {
  /** The stable client key announced at Join ("" joins anonymously). */
  clientKey: string;
  /** Share of its tasks it answers with a wrong output (0 honest, 1 always lying). Default 0. */
  lieShare?: number;
  /** Tasks it holds at once. Default 8. */
  slots?: number;
  /** Time each task takes, ms. Default 0. */
  delayMs?: number;
}

/** A volunteer: the shared client handler with a processor that squares `{ n }` inputs (or lies). */
export interface Volunteer {
  /** Tasks computed, and how many of them it lied on. */
  counts(): { computed: number; lies: number };
  stop(): Promise<void>;
}

/**
 * A processor that answers without running the program: honest answers for `{ n }` inputs, and
 * wrong ones for the first `lieShare` of every hundred tasks (a deterministic share, so runs compare).
 */
class SquaringProcessor implements UnitProcessor {
  readonly executors = 1;
  computed = 0;
  lies = 0;
  #listener: (results: UnitResult[]) => void = () => undefined;

  constructor(
    readonly slots: number,
    private readonly lieShare: number,
    private readonly delayMs: number,
  ) {}

  run(tasks: readonly RunnableTask[]): void {
    const results = tasks.map((task): UnitResult => {
      const { n } = JSON.parse(decoder.decode(task.input)) as { n: number };
      const lie = this.computed++ % 100 < this.lieShare * 100;
      if (lie) this.lies++;
      return { copyId: task.copyId, outcome: { ok: true, output: encoder.encode(JSON.stringify(squareOf(n, lie))) }, durationMs: this.delayMs };
    });
    setTimeout(() => this.#listener(results), this.delayMs);
  }

  onResults(listener: (results: UnitResult[]) => void): void {
    this.#listener = listener;
  }

  async stop(): Promise<void> {}
}

/** Joins `distributorUrl` as a volunteer (see {@link VolunteerOptions}) and starts computing. */
export function startVolunteer(distributorUrl: string, options: VolunteerOptions): Volunteer {
  const processor = new SquaringProcessor(options.slots ?? 8, options.lieShare ?? 0, options.delayMs ?? 0);
  const transport = createConnectTransport({ baseUrl: distributorUrl, httpVersion: "1.1", useBinaryFormat: true });
  const handler = new ClientHandler(
    { distributorUrl, platform: "node", clientKey: options.clientKey, reportDelayMs: 5, maxSlots: processor.slots },
    { processor, connect: () => createClient(DistributorService, transport) },
  );
  handler.start();
  return { counts: () => ({ computed: processor.computed, lies: processor.lies }), stop: () => handler.stop({ graceMs: 500 }) };
}
