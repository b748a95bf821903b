/**
 * Trust (consecutive validated results, see core/client-trust.ts, weighed by the client's
 * distributor, see core/distributor-trust.ts) a client needs before any of its results may stand
 * alone under adaptive replication. 10, as BOINC's reliable-host bar.
 */
export const ADAPTIVE_MIN_TRUST = 10;

/** Smallest share of a trusted client's results that are still replicated (spot checks): 5 %. */
export const ADAPTIVE_MIN_REPLICATE = 0.05;

/**
 * The probability that a result of a client with `trust` is replicated anyway under adaptive
 * replication: 1 below {@link ADAPTIVE_MIN_TRUST}, then `ADAPTIVE_MIN_TRUST / trust`, falling as
 * trust grows, never below {@link ADAPTIVE_MIN_REPLICATE}.
 */
export function replicateProbability(trust: number): number {
  if (trust < ADAPTIVE_MIN_TRUST) return 1;
  return Math.max(ADAPTIVE_MIN_REPLICATE, ADAPTIVE_MIN_TRUST / trust);
}

/**
 * Whether the first OK result of a unit's round may stand alone (the unit done without its other
 * copies): the project has adaptive replication on, the client is known (it has a stable key:
 * anonymous sessions never earn this), and the draw `random` (uniform in [0, 1)) falls past the
 * replication probability of its `trust`.
 */
export function acceptsAlone(input: { adaptive: boolean; keyed: boolean; trust: number; random: number }): boolean {
  return input.adaptive && input.keyed && input.random >= replicateProbability(input.trust);
}
