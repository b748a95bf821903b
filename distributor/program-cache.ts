import type { DistributorStore, StoredProgram } from "./store/store.js";
import { ProgramNotFoundError } from "./errors.js";

/** Where a program missing from the cache comes from (the manager); undefined when it does not know it. */
export type FetchProgram = (hash: string) => Promise<StoredProgram | undefined>;

/**
 * Programs by hash: memory, then the store, then the manager (kept in both afterwards; in memory
 * only when the store fails to take it). Concurrent misses for one hash share one fetch. Nothing is verified here: clients check signatures.
 */
export class ProgramCache {
  readonly #memory = new Map<string, StoredProgram>();
  readonly #fetching = new Map<string, Promise<StoredProgram>>();

  constructor(
    private readonly store: Pick<DistributorStore, "getProgram" | "putProgram">,
    private readonly fetch: FetchProgram,
  ) {}

  /** The program, or `ProgramNotFoundError`; a manager failure propagates as thrown. */
  async get(hash: string): Promise<StoredProgram> {
    const hit = this.#memory.get(hash);
    if (hit !== undefined) return hit;
    let pending = this.#fetching.get(hash);
    if (pending === undefined) {
      pending = this.#load(hash).finally(() => this.#fetching.delete(hash));
      this.#fetching.set(hash, pending);
    }
    return pending;
  }

  async #load(hash: string): Promise<StoredProgram> {
    let program = await this.store.getProgram(hash);
    if (program === undefined) {
      program = await this.fetch(hash);
      if (program === undefined || program.hash !== hash) throw new ProgramNotFoundError(hash);
      // Only a cache for the next start: a store that cannot take it (a full disk) must not keep
      // clients from running, else they report every task of the program as a "program" error.
      await this.store.putProgram(program).catch(() => undefined);
    }
    this.#memory.set(hash, program);
    return program;
  }
}
