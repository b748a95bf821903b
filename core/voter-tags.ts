/**
 * Who computed a copy, as the manager knows it from the distributor that vouches for the result:
 * the client's stable key (a per-install or per-browser-profile secret, hashed by the distributor
 * into a public id) and its host (remote IP, when the distributor could tell it apart from others).
 */
export interface Voter {
  /** The client's public identity (`k-…`), or undefined for a client that sent no key. */
  clientKey?: string | undefined;
  /** The client's remote IP as its distributor saw it, or undefined when not known (e.g. loopback). */
  clientHost?: string | undefined;
  /** The distributor that vouches for the result. */
  distributorId: string;
}

/**
 * The tags of a voter: two copies come from the same volunteer when their tags share one. A client
 * with a key is its key; a client without one gets limited weight: every keyless client of a
 * distributor is one voter (`anon:<distributor>`), so unnamed sessions cannot form a quorum among
 * themselves. A known host is a tag too: two sessions (or two installs) on one IP are one voter.
 */
export function voterTags(voter: Voter): string[] {
  const tags = [voter.clientKey !== undefined && voter.clientKey !== "" ? `k:${voter.clientKey}` : `anon:${voter.distributorId}`];
  if (voter.clientHost !== undefined && voter.clientHost !== "") tags.push(`h:${voter.clientHost}`);
  return tags;
}

/**
 * How many of `voters` (each a tag list, see {@link voterTags}) are distinct volunteers: copies are
 * taken in order and one counts when it shares no tag with a copy already counted. A copy without
 * tags (recorded before voters were known) always counts.
 */
export function distinctVoters(voters: readonly (readonly string[] | undefined)[]): number {
  const seen = new Set<string>();
  let distinct = 0;
  for (const tags of voters) {
    if (tags === undefined || tags.length === 0) {
      distinct += 1;
      continue;
    }
    if (tags.some((tag) => seen.has(tag))) continue;
    for (const tag of tags) seen.add(tag);
    distinct += 1;
  }
  return distinct;
}
