import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import type { Logger } from "pino";
import { estimatePi, piInputs } from "../../examples/monte-carlo-pi/index.js";
import { createAdminClient } from "../admin-client.js";
import { listAllResults } from "../list-all-results.js";
import { countOf } from "../option-parsers.js";
import { packageRoot } from "../package-root.js";
import { createProgressBar } from "../progress-bar.js";
import { printJson, printLine } from "../print.js";
import { untilSignal } from "../until-signal.js";

interface DemoFlags {
  units: number;
  samples: number;
  workers: number;
  keep?: boolean;
  json?: boolean;
  browser?: boolean;
}

/** Starts a server on its usual port, or on a free one when the usual port is taken. */
async function onPreferredPort<T>(start: (port: number) => Promise<T>, preferred: number, log: Logger): Promise<T> {
  try {
    return await start(preferred);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    log.warn({ port: preferred }, "port taken, using a free one");
    return start(0);
  }
}

/**
 * Shows a progress bar until every unit of the project reached a final state; rejects when the
 * worker gave up first (`workerClosed` rejected), so the demo fails instead of waiting forever.
 * Returns how many units ended other than done.
 */
async function showProgress(
  admin: ReturnType<typeof createAdminClient>,
  projectId: string,
  units: number,
  workerClosed: Promise<void>,
): Promise<{ notDone: number }> {
  let workerFailure: unknown;
  workerClosed.catch((error: unknown) => {
    workerFailure = error ?? new Error("the worker stopped");
  });
  const started = Date.now();
  const bar = createProgressBar("computing");
  try {
    for (;;) {
      if (workerFailure !== undefined) throw workerFailure;
      const { projects } = await admin.getStats({ projectId });
      const counts = projects[0]?.counts;
      const done = Number(counts?.done ?? 0n);
      const notDone = Number(counts?.failed ?? 0n) + Number(counts?.expired ?? 0n) + Number(counts?.cancelled ?? 0n);
      const rate = done / Math.max(0.001, (Date.now() - started) / 1000);
      bar.update(done, units, `${rate.toFixed(0)} units/s`);
      if (done + notDone >= units) return { notDone };
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    bar.finish();
  }
}

/**
 * `disio demo`, what `npm start` runs: a manager, a distributor and a worker on embedded stores in a
 * fresh data folder compute a Monte Carlo estimate of π, with a progress bar; exits 0 when done.
 */
export function demoCommand(): Command {
  return new Command("demo")
    .description("run the whole grid on this machine and compute π (manager + distributor + worker)")
    .option("--units <n>", "work-units to compute (about 30 s on 2 cores at the default samples)", countOf, 3_500)
    .option("--samples <n>", "random points per unit", countOf, 1_000_000)
    .option("--workers <n>", "worker processes", countOf, availableParallelism())
    .option("--keep", "leave everything running when done (Ctrl-C stops)")
    .option("--browser", "no Node worker: open the printed demo page URL and watch your browser(s) compute the units")
    .option("--json", "print the summary as one JSON object")
    .action(async (flags: DemoFlags) => {
      const log = (await import("../logger.js")).createCliLogger(process.env.DISIO_LOG_LEVEL ?? "warn");
      // Loaded only here: every other command starts faster without the servers' modules.
      const [{ startManager }, { startDistributor }, { startWorker }] = await Promise.all([
        import("../../manager/index.js"),
        import("../../distributor/index.js"),
        import("../../client-node/index.js"),
      ]);
      const dataDir = mkdtempSync(join(tmpdir(), "disio-demo-"));
      const started = Date.now();
      const manager = await onPreferredPort((port) => startManager({ port, dataDir: join(dataDir, "manager"), log }), 7100, log);
      const admin = createAdminClient({ manager: manager.url, token: manager.adminToken });
      const { token } = await admin.createDistributor({ name: "demo-distributor", region: "local" });
      const distributor = await onPreferredPort(
        (port) => startDistributor({ port, managerUrls: [manager.url], token, dataDir: join(dataDir, "distributor"), log }),
        7200,
        log,
      );
      const programSource = readFileSync(join(packageRoot(), "examples/monte-carlo-pi/work.js"), "utf8");
      const { project } = await admin.createProject({ name: "monte-carlo-pi", programSource });
      const projectId = project!.id;
      const encoder = new TextEncoder();
      const inputs = piInputs(flags.units, flags.samples);
      for (let i = 0; i < inputs.length; i += 10_000) {
        await admin.addUnits({ projectId, units: inputs.slice(i, i + 10_000).map((input) => ({ input: encoder.encode(JSON.stringify(input)) })) });
      }
      if (!flags.json) {
        printLine(`dis.io demo: ${flags.units} units of ${flags.samples} samples, ${flags.browser ? "computed by browsers" : `${flags.workers} workers`}`);
        printLine(`  manager      ${manager.url}  (admin token in ${join(dataDir, "manager", "admin-token")})`);
        printLine(`  distributor  ${distributor.url}`);
        printLine(`  data         ${dataDir}`);
      }
      const say = flags.json ? (line: string) => process.stderr.write(`${line}\n`) : printLine;
      if (flags.browser) say(`open ${distributor.url}/ in a browser: every tab that shows it computes (embed: <script src="${distributor.url}/client.js" async></script>)`);
      // The demo started this manager itself: its worker pins that manager's key.
      const worker = flags.browser
        ? { closed: new Promise<void>(() => undefined), stop: async () => undefined }
        : await startWorker({ distributorUrl: distributor.url, workers: flags.workers, trustKey: manager.publicKeyBase64, log });
      try {
        const computeStarted = Date.now();
        const counts = await showProgress(admin, projectId, flags.units, worker.closed);
        const seconds = (Date.now() - computeStarted) / 1000;
        const decoder = new TextDecoder();
        const outputs: unknown[] = [];
        for await (const result of listAllResults(admin, projectId)) outputs.push(JSON.parse(decoder.decode(result.output)));
        const pi = estimatePi(outputs as Parameters<typeof estimatePi>[0]);
        const summary = {
          pi,
          error: Math.abs(pi - Math.PI),
          units: outputs.length,
          unitsNotDone: counts.notDone,
          seconds: Number(seconds.toFixed(2)),
          unitsPerSecond: Number((outputs.length / seconds).toFixed(1)),
          manager: manager.url,
          distributor: distributor.url,
          projectId,
          dataDir,
        };
        if (flags.json) printJson(summary);
        else {
          printLine(`π ≈ ${pi.toFixed(8)} (off by ${summary.error.toExponential(2)}) from ${outputs.length} units in ${summary.seconds}s (${summary.unitsPerSecond} units/s)`);
        }
        // A unit that failed or expired means the grid misbehaved: say so and exit non-zero.
        if (counts.notDone > 0) {
          process.stderr.write(`error: ${counts.notDone} of ${flags.units} units did not finish (failed or expired); data kept in ${dataDir}\n`);
          process.exitCode = 1;
        }
        if (flags.keep) {
          if (!flags.json) printLine(`still running (--keep): try DISIO_ADMIN_TOKEN=${manager.adminToken} disio status --manager ${manager.url}; Ctrl-C stops`);
          await untilSignal();
        }
      } finally {
        await worker.stop({ graceMs: 2_000 });
        // Closing both at once: the manager ends the distributor's idle long-poll Lease right away,
        // so the distributor need not wait out its grace for it.
        await Promise.all([distributor.close({ graceMs: 2_000 }), manager.close({ graceMs: 2_000 })]);
      }
      if (!flags.keep && process.exitCode === undefined) rmSync(dataDir, { recursive: true, force: true });
      log.info({ ms: Date.now() - started }, "demo finished");
    });
}
