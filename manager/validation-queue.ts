import type { Logger } from "pino";
import { classesFrom } from "../core/validator-classes.js";
import { ValidatorFailedError } from "./errors.js";
import type { ManagerStore, ValidationTask, ValidationVerdict } from "./store/store.js";
import type { ValidatorPool } from "./validator-pool.js";

/** Units read per round of the queue. */
const VALIDATION_BATCH = 500;

/** What the {@link ValidationQueue} needs. */
export interface ValidationQueueDeps {
  store: Pick<ManagerStore, "validationWork" | "applyValidations" | "getProgram">;
  pool: Pick<ValidatorPool, "compare">;
  log: Logger;
  now: () => number;
}

/**
 * Runs projects' validators on the units the store holds for them, outside any store transaction:
 * reads a batch ({@link ManagerStore.validationWork}), runs each project's comparisons in one
 * request to its worker thread (projects in parallel, so a slow validator delays only its own),
 * then applies every verdict in one transaction. A validator that fails fails the units it was
 * asked about ("validator failed: …"), logged once per project and reason. Kicked after a Report
 * that held units, and once at start for units held before a restart.
 */
export class ValidationQueue {
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  readonly #logged = new Set<string>();

  constructor(private readonly deps: ValidationQueueDeps) {}

  /** Makes sure a run follows: starts one, or asks the current one to read again. */
  kick(): void {
    if (this.#stopped) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    this.#running = this.#run().finally(() => {
      this.#running = undefined;
      if (this.#again) this.kick();
    });
  }

  /** Resolves when no run is going on (tests, close). */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  /** Stops kicking and waits for the run in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.idle();
  }

  async #run(): Promise<void> {
    try {
      for (;;) {
        this.#again = false;
        const work = await this.deps.store.validationWork(VALIDATION_BATCH);
        if (work.length === 0) return;
        const byProject = new Map<string, ValidationTask[]>();
        for (const task of work) byProject.set(task.projectId, [...(byProject.get(task.projectId) ?? []), task]);
        const verdicts = (await Promise.all([...byProject.values()].map((tasks) => this.#validate(tasks)))).flat();
        const applied = await this.deps.store.applyValidations(verdicts, this.deps.now());
        if (work.length < VALIDATION_BATCH && applied.unitsToValidate === 0 && !this.#again) return;
        if (this.#stopped) return;
      }
    } catch (error) {
      // The store failed (a full disk): the units stay held, the next kick retries.
      this.deps.log.error({ err: error }, "validation run failed");
    }
  }

  /** Verdicts for one project's units: one batch of comparisons for all of them. */
  async #validate(tasks: ValidationTask[]): Promise<ValidationVerdict[]> {
    const { projectId, programHash, outputEncoding } = tasks[0]!;
    const outputs = new Map<string, Uint8Array>();
    const pairs: Array<readonly [string, string]> = [];
    for (const task of tasks) {
      for (const [hash, output] of task.outputs) outputs.set(hash, output);
      pairs.push(...(task.plan?.pairs ?? []));
    }
    let agree: boolean[];
    try {
      const program = await this.deps.store.getProgram(programHash);
      if (program === undefined) throw new ValidatorFailedError(`program ${programHash} not found`);
      agree = await this.deps.pool.compare(programHash, program.source, { outputEncoding, outputs, pairs });
    } catch (error) {
      if (!(error instanceof ValidatorFailedError)) throw error;
      const key = `${projectId} ${error.message}`;
      if (!this.#logged.has(key)) {
        this.#logged.add(key);
        this.deps.log.error({ projectId, programHash, err: error.message, units: tasks.length }, "project validator failed: its units fail");
      }
      return tasks.map((t) => ({ unitId: t.unitId, round: t.round, error: error.message }));
    }
    let at = 0;
    return tasks.map((t) => {
      const n = t.plan?.pairs.length ?? 0;
      const classes = t.plan === undefined ? new Map<string, string>() : classesFrom(t.plan, agree.slice(at, at + n));
      at += n;
      return { unitId: t.unitId, round: t.round, classes };
    });
  }
}
