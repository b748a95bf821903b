/**
 * Verdicts without which a distributor's record counts as clean: its first wrong verdicts weigh
 * little until it has this many validated ones to set them against.
 */
export const DISTRIBUTOR_PRIOR = 10;

/**
 * How much a distributor's vouching is worth, in [0, 1]: the share of validated verdicts among
 * every verdict its clients got (validated and wrong, see core/client-trust.ts), with a clean
 * prior of {@link DISTRIBUTOR_PRIOR} validated ones. 1 for a distributor whose clients never lied;
 * it falls toward 0 as its clients keep lying, whichever identities they use, so a distributor
 * minting fresh client keys for one liar cannot launder its results.
 */
export function distributorWeight(record: { validated: number; wrong: number }): number {
  const good = record.validated + DISTRIBUTOR_PRIOR;
  return good / (good + record.wrong);
}

/** A client's trust as adaptive replication uses it: its own, weighed by its distributor's (rounded down). */
export function vouchedTrust(clientTrust: number, weight: number): number {
  return Math.floor(clientTrust * weight);
}
