/**
 * The distributor's store, in domain operations. It is the truth for durability: a copy leased, a
 * copy given to a client (and to whom) and a result received are durable once the operation's
 * promise resolves. Every operation that takes a batch writes it in one atomic step (one SQLite
 * transaction, one Redis script), never one write per copy.
 *
 * Backends: `sqlite/` (embedded default), `redis/` (a pool of distributors over one Redis). Every
 * backend passes `store-conformance.ts`; `open-distributor-store.ts` picks one by URL.
 */
export interface DistributorStore {
  /**
   * Calls `listener` after changes waiting loops care about: `ready` (copies became ready: leased
   * or requeued), `results` (results stored) and `dropped` (given copies dropped), made by this
   * process or, over a store shared by a pool, by another process. Returns the listener's removal.
   */
  onChange(listener: (change: StoreChange) => void): () => void;
  /** Adds leased copies as ready. Copies already held keep their state. Resolves to the number added. */
  addLeased(copies: readonly LeasedCopy[]): Promise<number>;
  /**
   * Gives up to `max` ready copies to a client: across projects in the order they were leased (the
   * manager's project order), within a project by unit priority, then oldest; copies of
   * `skipProjects` stay put. Marks them given (with the client's lease deadline) and durably records
   * the assignments, in one atomic step. Who holds a copy right now is not durable: after a restart
   * every held copy is ready again (its clients' streams are gone), while the assignments survive so
   * those clients can still report.
   */
  takeReady(request: TakeReadyRequest): Promise<GivenCopy[]>;
  /**
   * Puts those of `copyIds` that are currently given to `clientId` back to ready (the others were
   * reported, dropped or given to someone else since). Resolves to the number requeued.
   */
  requeueClient(clientId: string, copyIds: Iterable<string>): Promise<number>;
  /** Puts every given copy whose client lease ended at or before `nowMs` back to ready. */
  requeueExpiredClientLeases(nowMs: number): Promise<number>;
  /**
   * Which of `copyIds` were ever given to `clientId` (assignments are kept until pruned, also after
   * the copy's result was stored). Resolves to copy id → unit id for those that were.
   */
  wasGiven(clientId: string, copyIds: readonly string[]): Promise<Map<string, string>>;
  /**
   * Stores results, idempotent by copy id: a copy with a result already stored counts as a
   * duplicate and is not stored again. A stored result's copy leaves the held set. Durable when the
   * promise resolves.
   */
  storeResults(results: readonly StoredResult[]): Promise<StoreResultsOutcome>;
  /** The oldest results not yet acknowledged by a manager, at most `limit`. */
  pendingResults(limit: number): Promise<StoredResult[]>;
  /** Deletes results a manager acknowledged. Resolves to the number deleted. */
  ackResults(copyIds: readonly string[]): Promise<number>;
  /**
   * Every copy the distributor knows of at its manager: held copies and copies with a result not yet
   * acknowledged (what a reconciling Register lists). Undefined when there are more than `limit`.
   */
  knownCopyIds(limit: number): Promise<string[] | undefined>;
  /**
   * Drops held copies by unit (cancelled units) or copy id (lost leases). Resolves to the number
   * dropped; those that were in clients' hands are announced as a `dropped` change.
   */
  dropCopies(which: { unitIds?: readonly string[]; copyIds?: readonly string[] }): Promise<number>;
  /** Held copies whose manager lease is due for renewal at `nowMs`, at most `limit`. */
  dueForRenewal(nowMs: number, limit: number): Promise<string[]>;
  /** Records renewed manager leases. Unknown copy ids are ignored. */
  renewLeases(renewed: readonly RenewedLease[]): Promise<void>;
  /**
   * Forgets every assignment of these copies (their results reached a manager a while ago: a
   * client can no longer report them). Resolves to the number of assignments deleted.
   */
  forgetAssignments(copyIds: readonly string[]): Promise<number>;
  /** Forgets assignments made before `beforeMs` (leftovers of copies never reported). */
  pruneAssignments(beforeMs: number): Promise<number>;
  /** Counts of held copies and buffered results; `ready` leaves out copies of `skipProjects`. */
  counts(skipProjects?: ReadonlySet<string>): Promise<StoreCounts>;
  /** The distributor's secret (session tokens): the stored one, or `generate()` stored on first call. */
  ensureSecret(generate: () => Uint8Array): Promise<Uint8Array>;
  /** The last registration with a manager, if any. */
  loadRegistration(): Promise<Registration | undefined>;
  /** Persists the registration (replaces the previous one). */
  saveRegistration(registration: Registration): Promise<void>;
  /** A cached program by hash. */
  getProgram(hash: string): Promise<StoredProgram | undefined>;
  /** Caches a program (content-addressed: storing a hash twice keeps the first). */
  putProgram(program: StoredProgram): Promise<void>;
  /**
   * How many other live processes use this store right now: the rest of a pool over a shared
   * store, 0 for an embedded one. A reconciling Register must not run while there are some (it
   * would hand back to the manager copies another process is leasing at that moment).
   */
  otherProcesses(): Promise<number>;
  /** Closes the store; later calls fail. */
  close(): Promise<void>;
}

/**
 * What changed in a store: copies became ready, results were stored, or copies in clients' hands
 * were dropped (their units cancelled, their leases lost: the clients should stop them).
 */
export type StoreChange = { kind: "ready" } | { kind: "results" } | { kind: "dropped"; copyIds: readonly string[] };

/** Most copies one takeReady skips (see `TakeReadyRequest.skipCopy`) before it answers with what it found. */
export const MAX_SKIPPED_PER_TAKE = 1_000;

/** A copy leased from a manager. */
export interface LeasedCopy {
  /** Copy id (unique across the grid). */
  copyId: string;
  /** The unit it computes. */
  unitId: string;
  /** The unit's project. */
  projectId: string;
  /** Higher is handed out first. */
  priority: number;
  /** The manager lease's end, ms since epoch. */
  leaseDeadlineMs: number;
  /** When to renew the manager lease, ms since epoch. */
  renewAtMs: number;
  /** The encoded `disio.v1.Task` as leased; handed to clients as is (with the client's deadline appended). */
  task: Uint8Array;
}

/** Parameters of {@link DistributorStore.takeReady}. */
export interface TakeReadyRequest {
  /** The client receiving the copies. */
  clientId: string;
  /** Most copies to give. */
  max: number;
  /** Now, ms since epoch (the assignment time). */
  nowMs: number;
  /** The client lease's end, ms since epoch. */
  clientDeadlineMs: number;
  /** Projects whose copies must not be handed out (paused). */
  skipProjects?: ReadonlySet<string>;
  /** Most task bytes to give (the first copy is given whatever its size). Default: no limit. */
  maxBytes?: number;
  /**
   * Whether this client must not get this copy now (it, or its host, already had another copy of
   * its unit: see unit-holders.ts). A skipped copy stays ready, first in line for other clients.
   * `refusedSinceMs` is when the copy was first skipped (`nowMs` the first time; reset once it is
   * given), so the caller can give it anyway after a while. At most 1,000 skipped copies are
   * looked at per call. Default: nothing skipped.
   */
  skipCopy?: (copy: { copyId: string; unitId: string; refusedSinceMs: number }) => boolean;
}

/** A copy given to a client. */
export interface GivenCopy {
  /** Copy id. */
  copyId: string;
  /** Unit id. */
  unitId: string;
  /** Project id. */
  projectId: string;
  /** The encoded `disio.v1.Task` as leased from the manager (its deadline is the manager's). */
  task: Uint8Array;
  /** The client lease's end, ms since epoch. */
  clientDeadlineMs: number;
}

/** A result received from a client. */
export interface StoredResult {
  /** The copy it is for (the key: results are idempotent by it). */
  copyId: string;
  /** The unit the copy belongs to. */
  unitId: string;
  /** The client that computed it. */
  clientId: string;
  /** When the distributor received it, ms since epoch. */
  receivedAtMs: number;
  /** The encoded `disio.v1.TaskResult`, ready to forward to a manager. */
  result: Uint8Array;
}

/** What {@link DistributorStore.storeResults} did. */
export interface StoreResultsOutcome {
  /** Results stored for the first time. */
  accepted: number;
  /** Results for copies that already had a stored result. */
  duplicates: number;
}

/** A renewed manager lease. */
export interface RenewedLease {
  /** Copy id. */
  copyId: string;
  /** The new end of the manager lease, ms since epoch. */
  leaseDeadlineMs: number;
  /** When to renew it next, ms since epoch. */
  renewAtMs: number;
}

/** Sizes of what the store holds. */
export interface StoreCounts {
  /** Copies held (ready, paused or given). */
  held: number;
  /** Bytes of the held copies' encoded tasks. */
  heldBytes: number;
  /** Ready copies that may be handed out. */
  ready: number;
  /** Copies in clients' hands. */
  given: number;
  /** Results not yet acknowledged by a manager. */
  results: number;
}

/** The distributor's registration with a manager. */
export interface Registration {
  /** Our id, as the manager knows us. */
  distributorId: string;
  /** The manager group. */
  groupId: string;
  /** The manager that answered. */
  managerId: string;
  /** The manager's raw Ed25519 public key (signs programs). */
  managerPublicKey: Uint8Array;
}

/** A program as cached by the distributor (verified by clients, not here). */
export interface StoredProgram {
  /** Lower-case hex SHA-256 of the source. */
  hash: string;
  /** ES module source. */
  source: string;
  /** The manager's Ed25519 signature. */
  signature: Uint8Array;
}
