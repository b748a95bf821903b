/** Keys that exist once per store. */
const FIXED_KEYS = {
  /** String: the schema version of the layout below. */
  version: "version",
  /** String counter: the next lease order number (`seq` of a leased copy or stored result). */
  seq: "seq",
  /** String counter: orders requeued copies (the latest requeued is given first). */
  frontSeq: "front-seq",
  /** Hash: `held`, `heldBytes`, `ready`, `results`. */
  counts: "counts",
  /** Hash: project id → ready copies of the project. */
  readyByProject: "ready-by-project",
  /** Sorted set: project id, scored by the `seq` of its earliest-leased ready copy. */
  projects: "projects",
  /** Sorted set: every held copy id, scored by when its manager lease is due for renewal. */
  renew: "renew",
  /** Sorted set: copy ids in clients' hands, scored by their client lease's end. */
  leases: "leases",
  /** Set: the ids of the distributor processes using the store (a pool). */
  instances: "instances",
  /** Sorted set: copy ids with a result not yet acknowledged by a manager, scored by `seq`. */
  results: "results",
  /** Sorted set: `copyId\nclientId` of every assignment, scored by when it was made. */
  assignedAt: "assigned-at",
  /** Hash: `secret`, `registration`. */
  meta: "meta",
  /** Pub/sub channel: `ready <origin>`, `results <origin>` and `dropped <origin> <id,id,…>` after changes. */
  events: "events",
} as const;

/** Keys that exist once per copy, project, instance…: the prefix of each, completed by an id. */
const KEY_FAMILIES = {
  /** Hash per held copy: unit, project, prio, seq, size, task, lease, renew; `rk` while ready; client, cdl, inst while given. */
  copy: "copy:",
  /** Set per unit: its held copy ids. */
  unit: "unit:",
  /** Sorted set per project (all scores 0, ordered by member): ready copies by priority, requeued first, then oldest. */
  ready: "ready:",
  /** Sorted set per project: ready copy ids by `seq`. */
  readySeq: "ready-seq:",
  /** Set per instance: copy ids it gave to its clients. */
  given: "given:",
  /** String per instance, with a TTL: present while the instance lives. */
  alive: "alive:",
  /** Set per instance: copy ids of the results it claimed for a Report to the manager. */
  claims: "claims:",
  /** Hash per buffered result: unit, client, at, seq, result; owner and until while claimed for a Report. */
  result: "result:",
  /** Hash per copy: client id → unit id of every client it was given to. */
  assigned: "assigned:",
  /** String per program hash: its source and signature (JSON). */
  program: "program:",
} as const;

/** The name of a key that exists once per store. */
export type FixedKey = keyof typeof FIXED_KEYS;
/** The name of a family of keys, one per id. */
export type KeyFamily = keyof typeof KEY_FAMILIES;

/**
 * Every key of the distributor's Redis store, under one prefix (default `disio:`): the one home of
 * the key layout. TypeScript builds names with {@link RedisKeys.key} / {@link RedisKeys.of}; the Lua
 * scripts get the same names from {@link RedisKeys.luaPreamble}, generated from the same tables, so
 * the scripts build per-copy keys from the prefix rather than taking them in KEYS. All keys of a
 * store therefore live on one Redis (not Cluster).
 */
export class RedisKeys {
  constructor(
    /** Prepended to every key, e.g. `disio:` or `disio:pool-eu:`. */
    readonly prefix: string,
  ) {}

  /** A key that exists once per store. */
  key(name: FixedKey): string {
    return this.prefix + FIXED_KEYS[name];
  }

  /** The key of `id` in a family, e.g. `of("copy", "c1")`. */
  of(family: KeyFamily, id: string): string {
    return this.prefix + KEY_FAMILIES[family] + id;
  }

  /** The pattern matching every key of the store (for tests that remove a store). */
  get pattern(): string {
    return `${this.prefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
  }

  /**
   * Lua defining `K.<name>` (fixed keys) and `KP.<family>` (family prefixes, completed with `..
   * id`) from the prefix in `ARGV[1]`. Every script starts with it.
   */
  static luaPreamble(): string {
    const fixed = Object.entries(FIXED_KEYS).map(([name, suffix]) => `${name} = P .. ${JSON.stringify(suffix)}`);
    const families = Object.entries(KEY_FAMILIES).map(([name, suffix]) => `${name} = P .. ${JSON.stringify(suffix)}`);
    return `local P = ARGV[1]\nlocal K = { ${fixed.join(", ")} }\nlocal KP = { ${families.join(", ")} }\n`;
  }
}
