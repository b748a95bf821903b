/**
 * One BullMQ worker process of the side-by-side benchmark: runs the trivial job (returns its data)
 * with `concurrency` jobs at a time. Args: queue name, key prefix, concurrency. Prints "ready" once
 * connected; closes on SIGTERM.
 */
import { Worker } from "bullmq";

const [queueName, prefix, concurrency] = process.argv.slice(2);
const worker = new Worker(queueName!, async (job) => job.data, {
  connection: { host: "127.0.0.1", port: 6379 },
  prefix,
  concurrency: Number(concurrency),
});
worker.on("error", (error) => console.error(error));
await worker.waitUntilReady();
console.log("ready");
process.once("SIGTERM", () => {
  void worker.close().then(() => process.exit(0));
});
