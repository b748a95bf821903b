import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import { JobTally } from "./job-tally.js";
import { measuredPid, measuredSelf, ResourceWatch } from "./measured-processes.js";
import { loadAverage1m } from "./proc-stat.js";
import { submitBatches } from "./submit-batches.js";
import type { RunOptions, SystemRun } from "./system-run.js";

const connection = { host: "127.0.0.1", port: 6379 };
/** Every key this benchmark writes to Redis starts with this; all of them are deleted after each run. */
export const BULLMQ_PREFIX = "disio-bench-bullmq";
/** Jobs run before timing starts, so connections, scripts and JIT are warm in both systems. */
const WARM_UP_JOBS = 200;
const here = dirname(fileURLToPath(import.meta.url));

/**
 * BullMQ as a Node user would run it: addBulk of `batchSize` jobs while `workers` worker processes
 * (concurrency 100 each) run them, results seen through QueueEvents, on the local Redis.
 */
export async function runBullmq(options: RunOptions & { concurrency?: number }): Promise<SystemRun> {
  const queueName = `side-by-side-${process.pid}-${Date.now()}`;
  const redis = new Redis(connection);
  const redisPid = Number(/process_id:(\d+)/.exec(await redis.info("server"))?.[1]);
  const queue = new Queue(queueName, {
    connection,
    prefix: BULLMQ_PREFIX,
    // Completed jobs are dropped (the result travels in the event); the event stream is long enough
    // that QueueEvents never misses a completion at these rates.
    defaultJobOptions: { removeOnComplete: true, removeOnFail: true },
    streams: { events: { maxLen: 100_000 } },
  });
  const events = new QueueEvents(queueName, { connection, prefix: BULLMQ_PREFIX });
  const workers: ChildProcess[] = [];
  try {
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    const log = createWriteStream(join(options.dir, "bullmq-workers.log"), { flags: "a" });
    for (let k = 0; k < options.workers; k++) {
      const child = spawn(process.execPath, [join(here, "bullmq-worker.js"), queueName, BULLMQ_PREFIX, String(options.concurrency ?? 100)], { stdio: ["ignore", "pipe", "pipe"] });
      child.stderr!.pipe(log, { end: false });
      workers.push(child);
      const [line] = (await once(child.stdout!, "data")) as [Buffer];
      if (!line.toString().includes("ready")) throw new Error(`BullMQ worker said ${line.toString()}`);
    }
    let tally = new JobTally(WARM_UP_JOBS);
    events.on("completed", ({ returnvalue }) => {
      const value = (typeof returnvalue === "string" ? JSON.parse(returnvalue) : returnvalue) as { i: number };
      tally.result(value.i, typeof value.i === "number");
    });
    const add = (from: number, to: number) =>
      queue.addBulk(Array.from({ length: to - from }, (_, k) => ({ name: "echo", data: { i: from + k } }))).then(() => undefined);
    await submitBatches(tally, options.batchSize, add);
    await tally.allDone;

    tally = new JobTally(options.jobs);
    const loadBefore = loadAverage1m();
    const watch = new ResourceWatch([
      ...workers.map((w, k) => measuredPid(`worker ${k + 1}`, w.pid!)),
      measuredPid("redis-server", redisPid),
      measuredSelf("submitter"),
    ]);
    await submitBatches(tally, options.batchSize, add, options.ratePerSecond);
    await tally.allDone;
    const processes = watch.stop(options.jobs);
    return { system: "bullmq", workers: options.workers, offeredPerSecond: options.ratePerSecond, loadAverage: [loadBefore, loadAverage1m()], ...tally.report(), processes };
  } finally {
    await Promise.all(
      workers.map(async (w) => {
        if (w.exitCode === null) {
          w.kill("SIGTERM");
          await once(w, "exit");
        }
      }),
    );
    await events.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await deleteKeys(redis, `${BULLMQ_PREFIX}:${queueName}:*`);
    await redis.quit();
  }
}

/** Deletes every key matching `pattern` (SCAN, never KEYS). */
async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== "0");
}
