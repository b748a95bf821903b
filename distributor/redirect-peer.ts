/** Another distributor of the group, as the manager last described it. */
export interface PeerInfo {
  distributorId: string;
  publicUrl: string;
  region: string;
  freeSlots: number;
}

/**
 * The peer a client should join when this distributor is full: one with free slots, preferring our
 * region, then the most free slots. Undefined when none can take the client.
 */
export function redirectPeer(peers: readonly PeerInfo[], self: { distributorId: string; region: string }): PeerInfo | undefined {
  let best: PeerInfo | undefined;
  const rank = (p: PeerInfo) => (p.region === self.region ? 1 : 0);
  for (const peer of peers) {
    if (peer.freeSlots <= 0 || peer.publicUrl === "" || peer.distributorId === self.distributorId) continue;
    if (best === undefined || rank(peer) > rank(best) || (rank(peer) === rank(best) && peer.freeSlots > best.freeSlots)) best = peer;
  }
  return best;
}
