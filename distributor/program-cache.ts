import { verifyProgram, type Ed25519Verify } from "../core/program-signature.js";
import type { DistributorStore, StoredProgram } from "./store/store.js";
import { ProgramNotFoundError } from "./errors.js";

/** Where a program missing from the cache comes from (the manager); undefined when it does not know it. */
export type FetchProgram = (hash: string) => Promise<StoredProgram | undefined>;

/** Options of {@link ProgramCache}. */
export interface ProgramCacheOptions {
  /**
   * The manager's public key in force (from the last registration), or undefined/empty while none
   * is known. A cached program whose signature does not verify under it (signed before a key
   * rotation) is fetched again: clients pinning the new key would refuse the old signature.
   */
  managerKey?: () => Uint8Array | undefined;
  /** Ed25519 verification; default WebCrypto's (see core/program-signature.ts). */
  verify?: Ed25519Verify;
}

/**
 * Programs by hash: memory, then the store, then the manager (kept in both afterwards; in memory
 * only when the store fails to take it). Concurrent misses for one hash share one fetch. A cached
 * program is served only while its signature verifies under the manager's current key (checked
 * once per key); one that does not is fetched again, the manager signing with the key in force.
 * Clients still check every signature themselves: this only keeps a key rotation from leaving the
 * distributor serving programs nobody will run.
 */
export class ProgramCache {
  readonly #memory = new Map<string, { program: StoredProgram; verifiedKey: string }>();
  readonly #fetching = new Map<string, Promise<StoredProgram>>();
  readonly #managerKey: () => Uint8Array | undefined;
  readonly #verify: Ed25519Verify | undefined;

  constructor(
    private readonly store: Pick<DistributorStore, "getProgram" | "putProgram">,
    private readonly fetch: FetchProgram,
    options: ProgramCacheOptions = {},
  ) {
    this.#managerKey = options.managerKey ?? (() => undefined);
    this.#verify = options.verify;
  }

  /** The program, or `ProgramNotFoundError`; a manager failure propagates as thrown. */
  async get(hash: string): Promise<StoredProgram> {
    const hit = this.#memory.get(hash);
    if (hit !== undefined && hit.verifiedKey === keyId(this.#managerKey())) return hit.program;
    let pending = this.#fetching.get(hash);
    if (pending === undefined) {
      pending = this.#load(hash, hit?.program).finally(() => this.#fetching.delete(hash));
      this.#fetching.set(hash, pending);
    }
    return pending;
  }

  async #load(hash: string, cached: StoredProgram | undefined): Promise<StoredProgram> {
    const key = this.#managerKey();
    const stored = cached ?? (await this.store.getProgram(hash));
    if (stored !== undefined && (await this.#signedBy(stored, key))) return this.#remember(stored, key);
    const program = await this.fetch(hash);
    if (program === undefined || program.hash !== hash) throw new ProgramNotFoundError(hash);
    // Only a cache for the next start: a store that cannot take it (a full disk) must not keep
    // clients from running, else they report every task of the program as a "program" error.
    if (stored === undefined) await this.store.putProgram(program).catch(() => undefined);
    return this.#remember(program, key);
  }

  /** True when no key is known yet (nothing to check against) or the program verifies under `key`. */
  async #signedBy(program: StoredProgram, key: Uint8Array | undefined): Promise<boolean> {
    if (key === undefined || key.byteLength === 0) return true;
    return verifyProgram(program, key, this.#verify);
  }

  #remember(program: StoredProgram, key: Uint8Array | undefined): StoredProgram {
    this.#memory.set(program.hash, { program, verifiedKey: keyId(key) });
    return program;
  }
}

/** A key as a map-comparable string ("" for none). */
function keyId(key: Uint8Array | undefined): string {
  return key === undefined ? "" : Buffer.from(key).toString("hex");
}
