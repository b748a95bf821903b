import { InvalidArgumentError } from "./errors.js";

/** How a unit's input or output bytes are read: UTF-8 JSON text, or opaque bytes. */
export type PayloadEncoding = "json" | "bytes";

/** Shortest lease timeout a project may set: 1 s. */
export const MIN_LEASE_TIMEOUT_MS = 1_000;
/** Longest lease timeout a project may set: 7 days. */
export const MAX_LEASE_TIMEOUT_MS = 7 * 24 * 3600 * 1_000;
/** Lease timeout when none is given: 60 s. */
export const DEFAULT_LEASE_TIMEOUT_MS = 60_000;
/** Largest program source, in UTF-8 bytes: 4 MiB. */
export const MAX_PROGRAM_BYTES = 4 * 1024 * 1024;
/** Longest project name, in characters. */
export const MAX_PROJECT_NAME_LENGTH = 200;

/** A project's settings, complete and valid. */
export interface ProjectSettings {
  /** Human name, unique per manager. */
  name: string;
  /** How inputs are encoded. */
  inputEncoding: PayloadEncoding;
  /** How outputs are encoded (JSON outputs are compared in canonical form). */
  outputEncoding: PayloadEncoding;
  /** Copies of each unit to compute (≥ 1). */
  replication: number;
  /** Matching copies needed for a unit to be done (1 ≤ quorum ≤ replication). */
  quorum: number;
  /** Attempts (copies sent and not released) a unit may use before it fails (≥ replication). */
  maxAttempts: number;
  /** How long a leased copy may stay out, ms (1 s … 7 days). */
  leaseTimeoutMs: number;
  /** When the project stops leasing and its open units expire (epoch ms); undefined: never. */
  deadlineMs: number | undefined;
  /** Higher is leased first. */
  priority: number;
  /**
   * Adaptive replication (core/adaptive-replication.ts): a unit goes out as one copy first, and a
   * trusted client's result may stand alone. Only changes anything with quorum > 1.
   */
  adaptiveReplication: boolean;
  /**
   * Share of leased copies (0..1) that bring a canary copy along (core/canary-mix.ts); 0: none.
   */
  canaryRate: number;
}

/** Settings as a caller gives them: everything but the name optional. */
export interface ProjectSettingsInput {
  name: string;
  inputEncoding?: PayloadEncoding | undefined;
  outputEncoding?: PayloadEncoding | undefined;
  replication?: number | undefined;
  quorum?: number | undefined;
  maxAttempts?: number | undefined;
  leaseTimeoutMs?: number | undefined;
  deadlineMs?: number | undefined;
  priority?: number | undefined;
  adaptiveReplication?: boolean | undefined;
  canaryRate?: number | undefined;
}

/** A change to settings: unset fields keep their value; `clearDeadline` removes the deadline. */
export type ProjectSettingsUpdate = Partial<Omit<ProjectSettings, "deadlineMs">> & {
  deadlineMs?: number | undefined;
  clearDeadline?: boolean;
};

/**
 * Fills defaults (JSON encodings, replication 1, quorum 1, max_attempts replication + 2, lease 60 s,
 * priority 0, no deadline, no adaptive replication, no canaries) and validates. Throws {@link InvalidArgumentError} naming the first bad
 * field.
 */
export function resolveProjectSettings(input: ProjectSettingsInput): ProjectSettings {
  const replication = input.replication ?? 1;
  return checkProjectSettings({
    name: input.name,
    inputEncoding: input.inputEncoding ?? "json",
    outputEncoding: input.outputEncoding ?? "json",
    replication,
    quorum: input.quorum ?? 1,
    maxAttempts: input.maxAttempts ?? replication + 2,
    leaseTimeoutMs: input.leaseTimeoutMs ?? DEFAULT_LEASE_TIMEOUT_MS,
    deadlineMs: input.deadlineMs,
    priority: input.priority ?? 0,
    adaptiveReplication: input.adaptiveReplication ?? false,
    canaryRate: input.canaryRate ?? 0,
  });
}

/**
 * Applies an update to valid settings and validates the result as a whole (a new quorum is checked
 * against the new or current replication). When replication grows past max_attempts and no
 * max_attempts is given, max_attempts follows as replication + 2.
 */
export function applyProjectUpdate(current: ProjectSettings, update: ProjectSettingsUpdate): ProjectSettings {
  const replication = update.replication ?? current.replication;
  const maxAttempts =
    update.maxAttempts ?? (replication > current.maxAttempts ? replication + 2 : current.maxAttempts);
  return checkProjectSettings({
    name: update.name ?? current.name,
    inputEncoding: update.inputEncoding ?? current.inputEncoding,
    outputEncoding: update.outputEncoding ?? current.outputEncoding,
    replication,
    quorum: update.quorum ?? current.quorum,
    maxAttempts,
    leaseTimeoutMs: update.leaseTimeoutMs ?? current.leaseTimeoutMs,
    deadlineMs: update.clearDeadline ? undefined : (update.deadlineMs ?? current.deadlineMs),
    priority: update.priority ?? current.priority,
    adaptiveReplication: update.adaptiveReplication ?? current.adaptiveReplication,
    canaryRate: update.canaryRate ?? current.canaryRate,
  });
}

/** Validates a program source: non-empty and at most {@link MAX_PROGRAM_BYTES} UTF-8 bytes. */
export function validateProgramSource(source: string, field = "program_source"): void {
  if (source.trim().length === 0) throw new InvalidArgumentError(field, "the program is empty");
  const bytes = new TextEncoder().encode(source).byteLength;
  if (bytes > MAX_PROGRAM_BYTES) {
    throw new InvalidArgumentError(field, `the program is ${bytes} bytes, more than ${MAX_PROGRAM_BYTES}`);
  }
}

function checkProjectSettings(s: ProjectSettings): ProjectSettings {
  const name = s.name.trim();
  if (name.length === 0) throw new InvalidArgumentError("name", "a name is required");
  if (name.length > MAX_PROJECT_NAME_LENGTH) {
    throw new InvalidArgumentError("name", `at most ${MAX_PROJECT_NAME_LENGTH} characters`);
  }
  for (const field of ["inputEncoding", "outputEncoding"] as const) {
    if (s[field] !== "json" && s[field] !== "bytes") {
      throw new InvalidArgumentError(field === "inputEncoding" ? "input_encoding" : "output_encoding", "must be JSON or bytes");
    }
  }
  if (!isInt(s.replication) || s.replication < 1) throw new InvalidArgumentError("replication", "must be at least 1");
  if (!isInt(s.quorum) || s.quorum < 1) throw new InvalidArgumentError("quorum", "must be at least 1");
  if (s.quorum > s.replication) {
    throw new InvalidArgumentError("quorum", `must be at most replication (${s.replication})`);
  }
  if (!isInt(s.maxAttempts) || s.maxAttempts < s.replication) {
    throw new InvalidArgumentError("max_attempts", `must be at least replication (${s.replication})`);
  }
  if (!Number.isFinite(s.leaseTimeoutMs) || s.leaseTimeoutMs < MIN_LEASE_TIMEOUT_MS || s.leaseTimeoutMs > MAX_LEASE_TIMEOUT_MS) {
    throw new InvalidArgumentError("lease_timeout", "must be between 1 s and 7 days");
  }
  if (s.deadlineMs !== undefined && (!Number.isFinite(s.deadlineMs) || s.deadlineMs <= 0)) {
    throw new InvalidArgumentError("deadline", "must be a valid time");
  }
  if (!isInt(s.priority) || Math.abs(s.priority) > 2 ** 31 - 1) {
    throw new InvalidArgumentError("priority", "must be a 32-bit integer");
  }
  if (!(s.canaryRate >= 0 && s.canaryRate <= 1)) throw new InvalidArgumentError("canary_rate", "must be between 0 and 1");
  return { ...s, name, leaseTimeoutMs: Math.round(s.leaseTimeoutMs) };
}

function isInt(value: number): boolean {
  return Number.isSafeInteger(value);
}
