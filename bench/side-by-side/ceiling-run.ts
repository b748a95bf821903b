import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { freePort } from "../grid-processes.js";
import { measuredPid, ResourceWatch } from "./measured-processes.js";
import { loadAverage1m } from "./proc-stat.js";

const here = dirname(fileURLToPath(import.meta.url));

/** The bare transport's figures: no storage, no computing, one stream between two processes. */
export interface CeilingRun {
  system: "ceiling";
  jobs: number;
  seconds: number;
  jobsPerSecond: number;
  loadAverage: [number, number];
  processes: Record<string, { cpuSecondsPer1000: number; peakRssMb: number }>;
}

/** Runs the ceiling: a bare Connect server stream of `jobs` tasks and their results between two processes. */
export async function runCeiling(jobs: number, slots = 4_096): Promise<CeilingRun> {
  const port = await freePort();
  const children: ChildProcess[] = [];
  try {
    const server = spawn(process.execPath, [join(here, "ceiling-server.js"), String(port), String(jobs)], { stdio: ["ignore", "pipe", "inherit"] });
    children.push(server);
    const lines = createInterface({ input: server.stdout! })[Symbol.asyncIterator]();
    if ((await lines.next()).value !== "listening") throw new Error("ceiling server did not start");
    const loadBefore = loadAverage1m();
    const client = spawn(process.execPath, [join(here, "ceiling-client.js"), `http://127.0.0.1:${port}`, String(slots)], { stdio: ["ignore", "inherit", "inherit"] });
    children.push(client);
    const watch = new ResourceWatch([measuredPid("server", server.pid!), measuredPid("client", client.pid!)]);
    const done = String((await lines.next()).value ?? "");
    const seconds = Number(done.split(" ")[1]);
    if (!done.startsWith("done") || !(seconds > 0)) throw new Error(`ceiling server said ${done}`);
    return { system: "ceiling", jobs, seconds: Math.round(seconds * 100) / 100, jobsPerSecond: Math.round(jobs / seconds), loadAverage: [loadBefore, loadAverage1m()], processes: watch.stop(jobs) };
  } finally {
    for (const child of children) {
      if (child.exitCode === null) {
        child.kill("SIGKILL");
        await once(child, "exit");
      }
    }
  }
}
