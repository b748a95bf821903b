/** `disio worker`: the native Node client. */
export { startWorker } from "./start-worker.js";
export type { RunningWorker } from "./start-worker.js";
export { resolveWorkerOptions } from "./worker-options.js";
export type { ResolvedWorkerOptions, WorkerOptions } from "./worker-options.js";
export { trustedKeysFile } from "./trusted-keys-file.js";
