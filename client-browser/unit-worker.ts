/**
 * Entry of a unit worker: a dedicated Web Worker made from a `blob:` URL inside the sandboxed runner
 * iframe, so it inherits the iframe's opaque origin and its Content-Security-Policy (no network).
 * It removes the network and messaging globals a program could reach for (defence in depth: the
 * CSP is the barrier), runs tasks one at a time, and rests between them to honour `data-cpu`.
 */
import type { FromWorkerMessage, ToWorkerMessage, WorkerTask } from "./runner-messages.js";
import { loadProgram, runProgram, type WorkFunction } from "./run-program.js";

const scope = globalThis as unknown as Record<string, unknown> & { postMessage(message: unknown): void };
const post = scope.postMessage.bind(scope) as (message: FromWorkerMessage) => void;
for (const name of ["fetch", "XMLHttpRequest", "WebSocket", "WebTransport", "EventSource", "importScripts", "indexedDB", "caches", "BroadcastChannel", "postMessage"]) {
  try {
    Object.defineProperty(scope, name, { value: undefined, configurable: false, writable: false });
  } catch {
    // A non-configurable global stays; the CSP still blocks it.
  }
}

const programs = new Map<string, Promise<WorkFunction>>();
const queue: WorkerTask[] = [];
let cpu = 1;
let running = false;

async function drain(): Promise<void> {
  running = true;
  for (let task = queue.shift(); task !== undefined; task = queue.shift()) {
    const result = await runProgram(programs.get(task.programHash), task);
    const restMs = cpu < 1 ? (result.durationMs * (1 - cpu)) / cpu : 0;
    post({ type: "result", result, restMs });
    if (restMs > 0) await new Promise((resolve) => setTimeout(resolve, restMs));
  }
  running = false;
}

addEventListener("message", (event: MessageEvent<ToWorkerMessage>) => {
  const message = event.data;
  if (message?.type !== "run") return;
  cpu = message.cpu;
  for (const program of message.programs) {
    if (programs.has(program.hash)) continue;
    const loading = loadProgram(program.source);
    loading.catch(() => undefined); // each task of this program reports the failure
    programs.set(program.hash, loading);
  }
  queue.push(...message.tasks);
  if (!running) void drain();
});
