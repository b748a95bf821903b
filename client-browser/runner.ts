/**
 * Script of the runner iframe (`runner.html`), served by the distributor with a strict
 * Content-Security-Policy and loaded by client.js as `<iframe sandbox="allow-scripts">`: an opaque
 * origin with no network, no storage and no access to the embedding page. It waits for the page's
 * MessageChannel port, then runs the page's tasks on a {@link UnitThreadPool} and sends results back
 * in small batches.
 */
import type { UnitResult } from "../core/client/unit-processor.js";
import { CONNECT_MESSAGE, type PageMessage, type RunnerMessage } from "./runner-messages.js";
import { UnitThreadPool } from "./unit-thread-pool.js";

/** The unit worker's bundled source, put here by the build (client-browser/build-bundle.ts). */
declare const __DISIO_UNIT_WORKER__: string;

/** Results are sent to the page at most this long after the first one waited, ms. */
const FLUSH_MS = 15;

function serve(port: MessagePort): void {
  const send = (message: RunnerMessage): void => port.postMessage(message);
  const workerUrl = URL.createObjectURL(new Blob([__DISIO_UNIT_WORKER__], { type: "text/javascript" }));
  let pool: UnitThreadPool | undefined;
  let generation = 0;
  let waiting: UnitResult[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = (): void => {
    timer = undefined;
    if (waiting.length > 0) send({ type: "results", generation, results: waiting });
    waiting = [];
  };
  port.onmessage = (event: MessageEvent<PageMessage>) => {
    const message = event.data;
    if (message.type === "init") {
      pool?.close();
      pool = new UnitThreadPool(workerUrl, message.threads, message.cpu, {
        result(result) {
          waiting.push(result);
          timer ??= setTimeout(flush, FLUSH_MS);
        },
      });
      send({ type: "ready" });
    } else if (message.type === "run") {
      if (message.generation !== generation) return;
      pool?.run(message.tasks, message.programs);
    } else if (message.type === "abandon") {
      generation = message.generation;
      waiting = [];
      pool?.reset();
    } else if (message.type === "stop") {
      pool?.close();
      pool = undefined;
      port.close();
    }
  };
}

addEventListener("message", (event: MessageEvent) => {
  const port = event.ports[0];
  if (event.source !== parent || event.data !== CONNECT_MESSAGE || port === undefined) return;
  serve(port);
});
