/**
 * Agreement by a project's own `validate(a, b)` (see docs/architecture.md): outputs that are not
 * bit-identical may still agree (floats within a tolerance). Quorum then counts *classes* of
 * outputs instead of output hashes: every OK copy votes for its class, named by the hash of the
 * class's first output (its representative). Classes are built greedily, as BOINC's validators do:
 * an output joins the first class whose representative it agrees with, else starts its own.
 *
 * The decisions here are pure; the manager runs `validate` off the store's transactions (in a
 * worker thread) on the pairs {@link validationPlan} asks for, then applies {@link classesFrom}.
 */

/** An OK copy of a unit's round: its output hash and, once compared, its class (a representative's hash). */
export interface ClassedVote {
  hash: string;
  classHash?: string | undefined;
}

/** The comparisons a unit's round needs before quorum can count it. */
export interface ValidationPlan {
  /** Representatives of the classes already known, in order of appearance. */
  reps: string[];
  /** Output hashes not classed yet, in order of appearance. */
  unclassed: string[];
  /** Pairs `[earlier, later]` to run `validate` on: each unclassed hash against every representative and every earlier unclassed hash. */
  pairs: Array<[string, string]>;
}

/**
 * The vote of each copy (in order): its class once known, else its own hash. A copy whose output
 * hash was classed through another copy with the same hash votes for that class too.
 */
export function voteHashes(votes: readonly ClassedVote[]): string[] {
  const known = knownClasses(votes);
  return votes.map((v) => v.classHash ?? known.get(v.hash) ?? v.hash);
}

/**
 * What a round still needs compared, or undefined when nothing: only a round holding at least two
 * distinct outputs, one of them not classed yet, needs its project's validator. Bit-identical
 * outputs never do (a validator is assumed reflexive).
 */
export function validationPlan(votes: readonly ClassedVote[]): ValidationPlan | undefined {
  const known = knownClasses(votes);
  const reps: string[] = [];
  for (const classHash of known.values()) if (!reps.includes(classHash)) reps.push(classHash);
  const unclassed: string[] = [];
  for (const { hash } of votes) {
    if (!known.has(hash) && !reps.includes(hash) && !unclassed.includes(hash)) unclassed.push(hash);
  }
  if (unclassed.length === 0 || reps.length + unclassed.length < 2) return undefined;
  const pairs: Array<[string, string]> = [];
  unclassed.forEach((hash, i) => {
    for (const rep of reps) pairs.push([rep, hash]);
    for (const earlier of unclassed.slice(0, i)) pairs.push([earlier, hash]);
  });
  return { reps, unclassed, pairs };
}

/**
 * The class of each unclassed hash of `plan`, from `agree[i]` (the validator's answer on
 * `plan.pairs[i]`): greedily, the first representative it agrees with, else itself.
 */
export function classesFrom(plan: ValidationPlan, agree: readonly boolean[]): Map<string, string> {
  const answer = new Map<string, boolean>();
  plan.pairs.forEach(([a, b], i) => answer.set(`${a} ${b}`, agree[i] === true));
  const reps = [...plan.reps];
  const classes = new Map<string, string>();
  for (const hash of plan.unclassed) {
    const rep = reps.find((r) => answer.get(`${r} ${hash}`) === true);
    if (rep === undefined) reps.push(hash);
    classes.set(hash, rep ?? hash);
  }
  return classes;
}

function knownClasses(votes: readonly ClassedVote[]): Map<string, string> {
  const known = new Map<string, string>();
  for (const v of votes) if (v.classHash !== undefined && !known.has(v.hash)) known.set(v.hash, v.classHash);
  return known;
}
