import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { ClientHandler } from "../../core/client/client-handler.js";
import type { RunnableTask, UnitProcessor, UnitResult } from "../../core/client/unit-processor.js";
import { DistributorService } from "../../gen/disio/v1/distributor_service_pb.js";

/** A client that follows the protocol to the letter and reports every task as an error. */
export interface LyingClient {
  /** Results it reported as errors so far. */
  lies(): number;
  /** Leaves the distributor. */
  stop(): Promise<void>;
}

/** A unit processor that runs nothing and answers every task at once with `{ error: "lie" }`. */
class LyingProcessor implements UnitProcessor {
  readonly slots = 64;
  readonly executors = 4;
  told = 0;
  private listener: (results: UnitResult[]) => void = () => undefined;

  run(tasks: readonly RunnableTask[]): void {
    const results = tasks.map((task): UnitResult => ({ copyId: task.copyId, outcome: { ok: false, kind: "throw", message: "lie" }, durationMs: 1 }));
    setImmediate(() => {
      this.told += results.length;
      this.listener(results);
    });
  }

  onResults(listener: (results: UnitResult[]) => void): void {
    this.listener = listener;
  }

  async stop(): Promise<void> {}
}

/**
 * Joins the distributor at `distributorUrl` with the shared client handler (heartbeats, credit,
 * reconnects: everything an honest client does) and reports an error for every task it gets.
 */
export function startLyingClient(distributorUrl: string): LyingClient {
  const processor = new LyingProcessor();
  const transport = createConnectTransport({ baseUrl: distributorUrl, httpVersion: "1.1", useBinaryFormat: true });
  const handler = new ClientHandler({ distributorUrl, platform: "node", userAgent: "chaos liar" }, { processor, connect: () => createClient(DistributorService, transport) });
  handler.start();
  return { lies: () => processor.told, stop: () => handler.stop({ graceMs: 2_000 }) };
}
