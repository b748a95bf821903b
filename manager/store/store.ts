import type { PayloadEncoding, ProjectSettings } from "../../core/project-settings.js";
import type { CopyOutcome, UnitState } from "../../core/unit-transitions.js";
import type { ValidationPlan } from "../../core/validator-classes.js";
import type { StoreWakeups } from "./store-changes.js";

/**
 * The manager's store, in domain operations. Every backend implements these with the engine's own
 * means, is opened by URL in `open-manager-store.ts` and passes `store-conformance.ts`. Each
 * operation is atomic and batch operations commit once per call. What a result, an ended copy or a
 * validator's verdict does to a unit is decided by core/result-plan.ts: a backend reads, asks it
 * for a write plan and applies the plan in the same atomic operation. Ids are opaque strings. Times are epoch ms, passed in by
 * the caller so decisions are reproducible. Unknown ids throw `NotFoundError` subclasses from
 * manager/errors.ts; other domain rules live in core/ (quorum, unit transitions, settings).
 *
 * Attempts: a copy leased and not released counts as an attempt (pending, ok, error, timeout,
 * invalid alike); a unit fails when no quorum can be reached within `maxAttempts` attempts.
 */
export interface ManagerStore {
  /** Which engine this is (its `--store` scheme), for status pages. */
  readonly kind: string;
  /**
   * Wake-ups after commits: `unitsReady` when units may be leased again (added, requeued, reopened,
   * released, a project created active or updated), `unitsFinished` when units reached a final
   * state (or were cancelled, expired or deleted). Every process on the store hears every change,
   * its own and (for a shared engine) the others'. Services wait on these, never on their own signals.
   */
  readonly changes: StoreWakeups;
  /** The manager group's id: every manager on this store shares it. Stable for the store's life. */
  groupId(): Promise<string>;

  /** Stores a program (idempotent by hash). */
  putProgram(program: StoredProgram): Promise<void>;
  /** A program by hash, or undefined. */
  getProgram(hash: string): Promise<StoredProgram | undefined>;

  /** Creates a project. Throws `NameTakenError` when the name is in use. */
  createProject(project: NewProject): Promise<ProjectRecord>;
  /** A project with its counts. Throws `ProjectNotFoundError`. */
  getProject(id: string): Promise<ProjectRecord>;
  /** Projects newest first, `limit` per page; `pageToken` from the previous page's `nextPageToken`. */
  listProjects(page: { limit: number; pageToken?: string }): Promise<{ projects: ProjectRecord[]; nextPageToken: string }>;
  /**
   * Changes settings and/or pauses/resumes. New replication, quorum or max_attempts re-decide the
   * project's open units. Throws `ProjectNotFoundError`, `NameTakenError`, `ProjectStateError`.
   */
  updateProject(id: string, change: ProjectChange, nowMs: number): Promise<ProjectRecord>;
  /** Deletes a project with its units, copies and results; returns how many units went. */
  deleteProject(id: string): Promise<number>;

  /** Adds units in one transaction; returns their ids in order. Reopens a done project. */
  addUnits(projectId: string, units: readonly NewUnit[], nowMs: number): Promise<string[]>;
  /**
   * Adds units at most once per `requestId` in a project, for safe retries: the first call stores
   * the units and the request (its unit count and digest, see unit-batch-digest.ts) in one
   * transaction; a repeat with the same units stores nothing and returns the first call's ids with
   * `alreadyStored`, even once the project is done or expired. Throws `RequestIdReusedError` when
   * the request id stored a different batch. Otherwise as {@link ManagerStore.addUnits}.
   */
  addUnitsOnce(projectId: string, requestId: string, units: readonly NewUnit[], nowMs: number): Promise<AddedUnits>;
  /** A project's units oldest first, optionally of one state, without copies. */
  listUnits(
    projectId: string,
    page: { state?: UnitState; limit: number; pageToken?: string; maxBytes?: number },
  ): Promise<{ units: UnitRecord[]; nextPageToken: string }>;
  /** A unit with every copy sent (oldest first). Throws `UnitNotFoundError`. */
  getUnit(id: string): Promise<UnitRecord & { copies: CopyRecord[] }>;
  /** Cancels open units (all open ones when `unitIds` is undefined); returns how many. */
  cancelUnits(projectId: string, unitIds: readonly string[] | undefined, nowMs: number): Promise<number>;
  /**
   * Requeues finished units (the given ones, or all in `state`) with a fresh round and attempt
   * budget; copies of earlier rounds stay in history but no longer count. Returns how many.
   */
  requeueUnits(projectId: string, select: { unitIds: readonly string[] } | { state: UnitState }, nowMs: number): Promise<number>;

  /**
   * Leases up to `max` copies for a distributor in lease order (project priority, deadline, unit
   * priority, age), at most one copy per unit per call, from active projects not past their
   * deadline. Inputs are returned as stored (never parsed), and stop before their total passes
   * `maxInputBytes` (the first copy is leased whatever its size).
   */
  leaseCopies(distributorId: string, max: number, nowMs: number, maxInputBytes?: number): Promise<LeasedTask[]>;
  /** Extends pending copies the distributor holds of open units; the others are `lost`. */
  renewCopies(distributorId: string, copyIds: readonly string[], nowMs: number): Promise<{ renewed: Array<{ copyId: string; deadlineMs: number }>; lost: string[] }>;
  /** Gives back pending copies the distributor holds (no attempt used); returns how many. */
  releaseCopies(distributorId: string, copyIds: readonly string[], nowMs: number): Promise<number>;
  /**
   * Records a batch of results `distributorId` reported, in one commit, idempotent by copy id.
   * Results for copies leased to another distributor are refused. Late results for finished units
   * only record the copy. `unitsReopened` tells whether units now need new copies,
   * `unitsFinished` how many units reached a final state.
   */
  recordResults(distributorId: string, results: readonly ReportedResult[], nowMs: number): Promise<RecordResultsOutcome>;
  /**
   * Opens copies for the extra copies a distributor made while cut off from its managers (see
   * `TaskResult.extra_of_copy_id`), before their results are recorded: one pending copy of the unit
   * per extra whose leased copy was leased to `distributorId`, when the unit is still open (not
   * done, failed, expired, cancelled, nor a canary). From then on it counts as any leased copy toward
   * quorum, attempts, distinct voters and trust. Idempotent by the distributor's extra copy id.
   * Resolves to extra copy id → the copy id standing for it; extras not adopted are left out.
   */
  adoptExtraCopies(distributorId: string, extras: readonly ExtraCopyClaim[], nowMs: number): Promise<Map<string, string>>;
  /**
   * Units held for their project's validator (outputs differ and `validate` has not compared them,
   * see core/validator-classes.ts), oldest first, at most `limit`, each with the comparisons its
   * round needs and the outputs they read. Read outside any transaction: the validator runs on them
   * asynchronously and {@link ManagerStore.applyValidations} writes what it decided.
   */
  validationWork(limit: number): Promise<ValidationTask[]>;
  /**
   * Writes validators' verdicts in one transaction: each unit still held in the same round gets
   * its outputs' classes and is re-decided by quorum over classes, or fails with the verdict's error.
   */
  applyValidations(verdicts: readonly ValidationVerdict[], nowMs: number): Promise<ValidationsApplied>;
  /** Times out pending copies past their deadline (at most `limit`), requeuing or failing units. */
  requeueExpired(nowMs: number, limit: number): Promise<{ timedOut: number; unitsReopened: boolean; unitsFinished: number }>;
  /** Expires projects past their deadline and their open units; returns the projects' ids. */
  expireProjects(nowMs: number): Promise<string[]>;

  /**
   * A project's results after `cursor` in finishing order: at most `limit`, and stopping before their
   * fields (inputs, outputs…) pass `maxBytes` (one result always fits). `nextCursor` is the last one's (or
   * `cursor`); `more` tells that the page was cut by either bound, so more results may follow at once.
   */
  listResults(projectId: string, cursor: string, limit: number, maxBytes?: number): Promise<{ results: ResultRecord[]; nextCursor: string; more: boolean }>;
  /** The cursor after which the project's last `count` results follow ("" when it has no more than `count`). Throws `ProjectNotFoundError`. */
  latestResultsCursor(projectId: string, count: number): Promise<string>;

  /** Creates a distributor identity holding only its token's hash. Throws `NameTakenError`. */
  createDistributor(d: { name: string; region: string; tokenHash: string }, nowMs: number): Promise<DistributorRecord>;
  /** The distributor with this token hash (revoked ones included), or undefined. */
  getDistributorByTokenHash(tokenHash: string): Promise<DistributorRecord | undefined>;
  /** A distributor by id. Throws `DistributorNotFoundError`. */
  getDistributor(id: string): Promise<DistributorRecord>;
  /** Every distributor, oldest first. */
  listDistributors(): Promise<DistributorRecord[]>;
  /** Records a distributor's Register call. */
  registerDistributor(id: string, r: { publicUrl: string; region: string; capacity: number; version: string }, nowMs: number): Promise<DistributorRecord>;
  /**
   * Records a heartbeat (load, ended client sessions, and the client each of `givenCopies` went to:
   * set on those still pending and leased to this distributor) and returns the ids of units
   * cancelled or finished while they had copies out since its previous heartbeat (at most `limit`).
   */
  heartbeat(
    id: string,
    load: DistributorLoad,
    sessions: readonly ClientSessionRecord[],
    nowMs: number,
    limit: number,
    givenCopies?: readonly CopyAssignment[],
  ): Promise<{ finishedUnitIds: string[] }>;
  /**
   * Gives back every copy pending for the distributor that `heldCopyIds` does not list (no attempt
   * used): a freshly started distributor's reconciliation. Returns how many were released.
   */
  releaseUnheldCopies(id: string, heldCopyIds: readonly string[], nowMs: number): Promise<number>;
  /** Revokes a distributor and requeues its pending copies (no attempt used); returns how many. */
  revokeDistributor(id: string, nowMs: number): Promise<number>;
  /** Marks a distributor draining. */
  drainDistributor(id: string): Promise<DistributorRecord>;

  /** Lifespans (ms, join to last seen) and platforms of the most recent `limit` client sessions, for statistics. */
  recentLifespans(limit: number): Promise<ClientLifespan[]>;
  /** The lifespans of the most recent `limit` client sessions, ms, grouped by distributor id. */
  recentLifespansByDistributor(limit: number): Promise<Map<string, number[]>>;
  /**
   * Per project id, the pending copies that a distributor said it handed to a client (being
   * computed, as far as the manager knows) and the distinct units they belong to. Projects with none
   * are absent.
   */
  computingCounts(): Promise<Map<string, { copies: number; units: number }>>;
  /** Drops unit-finish notices older than `beforeMs` (heartbeats only need recent ones). */
  pruneNotices(beforeMs: number): Promise<void>;
  /** Client identities by trust (then validated results), most trusted first, at most `limit`. */
  listClients(limit: number): Promise<ClientTrustRecord[]>;
  /** Closes the store. */
  close(): Promise<void>;
}

/** A program as stored: source, content hash and the manager's signature. */
export interface StoredProgram {
  hash: string;
  source: string;
  signature: Uint8Array;
}

/** Where a project stands. */
export type ProjectState = "active" | "paused" | "done" | "expired";

/** A project's units by state. */
export interface UnitCounts {
  queued: number;
  running: number;
  done: number;
  failed: number;
  expired: number;
  cancelled: number;
  total: number;
}

/** What createProject needs. */
export interface NewProject {
  settings: ProjectSettings;
  programHash: string;
  hasValidator: boolean;
  /** Start paused. */
  paused: boolean;
  nowMs: number;
}

/** A project as the store holds it. */
export interface ProjectRecord extends ProjectSettings {
  id: string;
  state: ProjectState;
  programHash: string;
  hasValidator: boolean;
  createdAtMs: number;
  updatedAtMs: number;
  counts: UnitCounts;
  /** Pending copies out now. */
  copiesOut: number;
}

/** A change to a project: complete new settings and/or a pause/resume. */
export interface ProjectChange {
  /** The new settings, already validated against the current ones (core/project-settings). */
  settings?: ProjectSettings;
  /** `"paused"` pauses, `"active"` resumes. */
  state?: "active" | "paused";
}

/** One unit to add. */
export interface NewUnit {
  input: Uint8Array;
  priority: number;
  /**
   * Set for a canary (a unit with a known answer): the hash of its expected output, as
   * manager/output-hash.ts hashes outputs. A canary is only leased mixed into other copies at the
   * project's canary rate, never finishes and counts in no progress (docs/architecture.md, Trust).
   */
  expectedHash?: string;
}

/** What {@link ManagerStore.addUnitsOnce} did. */
export interface AddedUnits {
  /** The units' ids in the order given (the first call's when `alreadyStored`). */
  unitIds: string[];
  /** True when the request id was stored before: this call added nothing. */
  alreadyStored: boolean;
}

/** A unit as the store holds it. */
export interface UnitRecord {
  id: string;
  projectId: string;
  state: UnitState;
  input: Uint8Array;
  priority: number;
  /** Every copy leased, ever (released ones too). */
  copiesSent: number;
  /** Attempts used in the current round. */
  attempts: number;
  output: Uint8Array | undefined;
  outputHash: string | undefined;
  createdAtMs: number;
  finishedAtMs: number | undefined;
  /** The last error seen, for failed units. */
  error: string | undefined;
  /** Done by one volunteer agreeing with itself (see core/quorum.ts): unverified. */
  selfAgreement: boolean;
  /** Done by one trusted client's result alone (adaptive replication, core/adaptive-replication.ts). */
  unreplicated: boolean;
}

/** One copy sent. */
export interface CopyRecord {
  id: string;
  unitId: string;
  distributorId: string;
  clientId: string | undefined;
  sentAtMs: number;
  deadlineMs: number;
  receivedAtMs: number | undefined;
  outcome: CopyOutcome;
  outputHash: string | undefined;
  error: string | undefined;
  /** Who computed it (the distributor's hash of the client's key), once reported with one. */
  clientKey: string | undefined;
  /** The client's remote IP, when its distributor knew it. */
  clientHost: string | undefined;
}

/** A leased copy on its way to a distributor. */
export interface LeasedTask {
  copyId: string;
  unitId: string;
  projectId: string;
  programHash: string;
  input: Uint8Array;
  inputEncoding: PayloadEncoding;
  outputEncoding: PayloadEncoding;
  deadlineMs: number;
  priority: number;
}

/** One reported result. */
export interface ReportedResult {
  copyId: string;
  /** The encoded output, when the program returned one. */
  output?: Uint8Array;
  /** Why there is no output. */
  error?: { message: string; kind: string };
  clientId?: string;
  /** The client's public identity as the distributor vouches (see core/voter-tags.ts). */
  clientKey?: string;
  /** The client's remote IP as the distributor saw it. */
  clientHost?: string;
  durationMs?: number;
  /** For an extra copy: the leased copy it was made from (see {@link ManagerStore.adoptExtraCopies}). */
  extraOfCopyId?: string;
}

/** An extra copy a distributor made of a leased copy (see {@link ManagerStore.adoptExtraCopies}). */
export interface ExtraCopyClaim {
  /** The distributor's id for the extra copy. */
  extraCopyId: string;
  /** The leased copy it was made from. */
  extraOfCopyId: string;
}

/** What recordResults did. */
export interface RecordResultsOutcome {
  accepted: number;
  duplicates: number;
  unknown: number;
  /** Results for copies leased to another distributor: not recorded. */
  refused: number;
  unitsReopened: boolean;
  unitsFinished: number;
  /** Units now held for their project's validator (see {@link ManagerStore.validationWork}). */
  unitsToValidate: number;
}

/** A unit held for its project's validator, with what the validator must compare. */
export interface ValidationTask {
  unitId: string;
  projectId: string;
  programHash: string;
  outputEncoding: PayloadEncoding;
  /** The round the comparisons belong to (a verdict for another round is ignored). */
  round: number;
  /** The comparisons to run; undefined when nothing is left to compare. */
  plan: ValidationPlan | undefined;
  /** The canonical outputs of the round's OK copies, by output hash. */
  outputs: Map<string, Uint8Array>;
}

/** What a validator decided for a unit: the class of each unclassed output hash, or an error. */
export type ValidationVerdict =
  | { unitId: string; round: number; classes: ReadonlyMap<string, string> }
  | { unitId: string; round: number; error: string };

/** What applyValidations did. */
export interface ValidationsApplied {
  unitsReopened: boolean;
  unitsFinished: number;
  /** Units held again (new outputs came in meanwhile). */
  unitsToValidate: number;
}

/** A canonical result in a project's result log. */
export interface ResultRecord {
  unitId: string;
  projectId: string;
  /**
   * The `disio.v1.Result` fields that were fixed when the unit finished (input = 3, output = 4,
   * output_hash = 5, finish_time = 6, copies_sent = 7), in protobuf binary form as `toBinary`
   * writes them: pages copy them as they are (see manager/mappers/results-response-encoder.ts).
   */
  fields: Uint8Array;
  cursor: string;
  /** Unverified: one volunteer agreed with itself. */
  selfAgreement: boolean;
  /** Accepted from one trusted client alone (adaptive replication). */
  unreplicated: boolean;
}

/** A client identity's trust, per distributor vouching for it (see core/client-trust.ts). */
export interface ClientTrustRecord {
  /** The client's public identity, or `anon` for a distributor's keyless clients. */
  clientKey: string;
  distributorId: string;
  /** Consecutive validated results since its last wrong one. */
  trust: number;
  validated: number;
  wrong: number;
  lastSeenMs: number;
}

/** A copy a distributor gave to a client (from its heartbeat). */
export interface CopyAssignment {
  copyId: string;
  clientId: string;
}

/** A distributor's load, as its last heartbeat reported it. */
export interface DistributorLoad {
  heldCopies: number;
  clients: number;
  bufferedResults: number;
  freeSlots: number;
}

/** A distributor as the store holds it. */
export interface DistributorRecord extends DistributorLoad {
  id: string;
  name: string;
  region: string;
  publicUrl: string;
  capacity: number;
  version: string;
  createdAtMs: number;
  registeredAtMs: number | undefined;
  lastSeenMs: number | undefined;
  revoked: boolean;
  draining: boolean;
}

/** One client session's stay, for the lifespan statistics. */
export interface ClientLifespan {
  /** "browser", "node" or "other". */
  platform: string;
  /** Join to last seen, ms. */
  lifespanMs: number;
}

/** One client's stay at a distributor. */
export interface ClientSessionRecord {
  clientId: string;
  platform: string;
  joinMs: number;
  lastSeenMs: number;
  results: number;
}
