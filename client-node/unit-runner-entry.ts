/**
 * Entry of a unit-runner process (a node:cluster worker of `disio worker`). It runs with Node's
 * permission model (reads limited to this folder, no writes, no child processes, no addons) and a
 * heap limit, and locks itself down before any program loads (sandbox.ts: no network, no host
 * details, no threads, imports limited to computing built-ins); the primary kills it when a unit
 * runs past its wall-clock limit.
 *
 * It loads each program once per hash from a `data:` URL, runs tasks one at a time in the order
 * received, and sends results back in batches.
 */
import type { UnitResult } from "../core/client/unit-processor.js";
import { packResults, unpackTasks } from "./ipc-batch.js";
import { RUNNER_CONFIG_ENV, type RunMessage, type RunnerConfig, type RunnerMessage, type RunnerTask } from "./ipc-messages.js";
import { loadProgram, runUnit, type WorkFunction } from "./run-unit.js";
import { lockDown } from "./sandbox.js";

const config = JSON.parse(process.env[RUNNER_CONFIG_ENV] ?? "{}") as RunnerConfig;
// Programs must not read the volunteer's environment (tokens, paths): empty it before any program loads.
for (const name of Object.keys(process.env)) delete process.env[name];
lockDown(new URL("./sandbox-hooks.js", import.meta.url));

const programs = new Map<string, Promise<WorkFunction>>();
let queue: RunnerTask[] = [];
let head = 0;
let draining = false;
let results: UnitResult[] = [];
let lastFlushMs = performance.now();

function send(message: RunnerMessage): void {
  process.send?.(message);
}

function flush(idleMs: number): void {
  if (results.length === 0) return;
  send({ type: "results", results: packResults(results), idleMs });
  results = [];
  lastFlushMs = performance.now();
}

async function drain(): Promise<void> {
  draining = true;
  while (head < queue.length) {
    const task = queue[head++]!;
    if (task.isolate) flush(0);
    const result = await runUnit(programs.get(task.programHash), task);
    results.push(result);
    const idleMs = config.cpu < 1 ? (result.durationMs * (1 - config.cpu)) / config.cpu : 0;
    const empty = head >= queue.length;
    if (idleMs > 0 || empty || task.isolate || results.length >= config.flushCount || performance.now() - lastFlushMs >= config.flushIntervalMs) {
      flush(idleMs);
    }
    if (idleMs > 0) await new Promise((resolve) => setTimeout(resolve, idleMs));
  }
  queue = [];
  head = 0;
  draining = false;
}

process.on("message", (message: RunMessage) => {
  if (message?.type !== "run") return;
  for (const program of message.programs) {
    if (programs.has(program.hash)) continue;
    const loading = loadProgram(program.source);
    loading.catch(() => undefined); // each task of this program reports the failure
    programs.set(program.hash, loading);
  }
  queue.push(...unpackTasks(message.tasks));
  if (!draining) void drain();
});

// Ctrl+C reaches the whole process group: the primary decides when runners end (it drains first).
process.on("SIGINT", () => undefined);
process.on("SIGTERM", () => undefined);

send({ type: "ready" });
