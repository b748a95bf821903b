import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Starts the parts of a grid as real `disio` processes (the built CLI in dist/), for the end-to-end
 * tests and the benchmark. Each process logs to `<logDir>/<name>.log`.
 */

const here = dirname(fileURLToPath(import.meta.url));
/** The built CLI, whether this file runs from bench/ (vitest) or dist/bench/. */
export const CLI = here.includes(`${"/"}dist${"/"}`) ? join(here, "..", "cli", "main.js") : join(here, "..", "dist", "cli", "main.js");

/**
 * The Node flags the `disio` executable runs with, read from its shebang line, plus those in
 * `DISIO_GRID_NODE_FLAGS` (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile a bench run).
 */
export function cliNodeFlags(): string[] {
  const shebang = readFileSync(CLI, "utf8").split("\n", 1)[0] ?? "";
  const extra = process.env.DISIO_GRID_NODE_FLAGS?.split(/\s+/) ?? [];
  return [...shebang.split(/\s+/), ...extra].filter((word) => word.startsWith("--"));
}

/** A `disio` child process. */
export interface GridProcess {
  /** The child. */
  readonly child: ChildProcess;
  /** Its base URL (servers) or "" (workers). */
  readonly url: string;
  /** Resolves with the exit code (or null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Resident set size in MiB, read from /proc (0 once exited). */
  rssMb(): number;
  /** Sends a signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Sends a signal to the process and all its descendants (a worker's cluster processes), e.g. to freeze it. */
  signalTree(signal: NodeJS.Signals): void;
  /** The last lines of its log (for the error when it exits unexpectedly). */
  logTail(lines?: number): string;
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls `GET url/healthz` until it answers 200. */
export async function waitHealthy(url: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`${url} not healthy after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function rssMb(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** The pids of a process and its descendants, read from /proc (parents first). */
export function processTree(pid: number): number[] {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // gone
  }
  return [pid, ...children.flatMap(processTree)];
}

/** CPU time (user + system, s) used so far by a process and its living descendants, from /proc. */
export function treeCpuSeconds(pid: number): number {
  let ticks = 0;
  for (const member of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${member}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks / 100; // USER_HZ
}

/**
 * Spawns `node dist/cli/main.js …args` with its output in `<logDir>/<name>.log`. `detached` starts it
 * in a session of its own, as Playwright starts Chromium: with the kernel's autogroup scheduling
 * (`/proc/sys/kernel/sched_autogroup_enabled`) a session shares the CPU as one group, so a benchmark
 * comparing the two must start both that way.
 */
export function spawnDisio(name: string, args: string[], logDir: string, url = "", env: NodeJS.ProcessEnv = {}, detached = false): GridProcess {
  const log = createWriteStream(join(logDir, `${name}.log`), { flags: "a" });
  const child = spawn(process.execPath, [...cliNodeFlags(), CLI, ...args], {
    detached,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, DISIO_LOG_LEVEL: "info", ...env },
  });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const logPath = join(logDir, `${name}.log`);
  return {
    child,
    url,
    exited,
    logTail(lines = 15) {
      try {
        return readFileSync(logPath, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
      } catch {
        return "(no log)";
      }
    },
    rssMb: () => (child.exitCode === null && child.signalCode === null ? rssMb(child.pid) : 0),
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    signalTree(signal) {
      if (child.pid === undefined) return;
      for (const pid of processTree(child.pid)) {
        try {
          process.kill(pid, signal);
        } catch {
          // exited meanwhile
        }
      }
    },
  };
}

/** Waits until a server process answers /healthz; fails with its log's last lines if it exits first. */
async function untilHealthy(server: GridProcess, name: string): Promise<void> {
  const exitedFirst = server.exited.then((code) => Promise.reject(new Error(`${name} exited with ${code}; its log ends:\n${server.logTail()}`)));
  await Promise.race([waitHealthy(server.url), exitedFirst]);
}

/** Starts `disio manager` on `port` and waits until it is healthy. */
export async function startManagerProcess(options: { dataDir: string; port: number; adminToken: string; logDir: string }): Promise<GridProcess> {
  const url = `http://127.0.0.1:${options.port}`;
  const manager = spawnDisio("manager", ["manager", "--port", String(options.port), "--data", options.dataDir, "--admin-token", options.adminToken], options.logDir, url);
  await untilHealthy(manager, "manager");
  return manager;
}

/**
 * Starts `disio distributor` on `port` and waits until it is healthy; `detached` starts it in a
 * session of its own (see {@link spawnDisio}).
 */
export async function startDistributorProcess(options: {
  dataDir: string;
  port: number;
  managerUrl: string;
  token: string;
  logDir: string;
  extraArgs?: string[];
  detached?: boolean;
}): Promise<GridProcess> {
  const url = `http://127.0.0.1:${options.port}`;
  const distributor = spawnDisio(
    "distributor",
    ["distributor", "--port", String(options.port), "--data", options.dataDir, "--manager", options.managerUrl, "--token", options.token, ...(options.extraArgs ?? [])],
    options.logDir,
    url,
    {},
    options.detached,
  );
  await untilHealthy(distributor, "distributor");
  return distributor;
}

/** Starts `disio worker` with `workers` processes, logging to `<logDir>/<name>.log` (default `worker`). */
export function startWorkerProcess(options: { distributorUrl: string; workers: number; logDir: string; extraArgs?: string[]; name?: string; detached?: boolean }): GridProcess {
  // The worker remembers manager keys in its state folder: one per grid here, never the user's ~/.disio.
  const state = join(options.logDir, "worker-state");
  const args = ["worker", "--distributor", options.distributorUrl, "--workers", String(options.workers), "--state", state, ...(options.extraArgs ?? [])];
  return spawnDisio(options.name ?? "worker", args, options.logDir, "", {}, options.detached);
}
