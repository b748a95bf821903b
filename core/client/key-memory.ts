/**
 * A manager key a client trusted for a grid, as a {@link KeyMemory} keeps it. Keys are base64 of the
 * raw 32-byte Ed25519 public key (what `disio manager` prints and `disio worker --trust` takes).
 */
export interface TrustedKey {
  /** The distributor URL the client was pointed at (before redirects): what names "this grid" to the user. */
  readonly distributorUrl: string;
  /** The manager group the distributor said the key belongs to ("" when it did not say). */
  readonly groupId: string;
  /** The trusted manager key, base64. */
  readonly publicKey: string;
}

/**
 * Where a client remembers the manager keys it trusted (trust on first use). The Node worker keeps
 * them in a file, a browser may keep them in localStorage; {@link inMemoryKeyMemory} forgets them
 * when the process ends.
 */
export interface KeyMemory {
  /** Every key remembered. */
  load(): Promise<readonly TrustedKey[]>;
  /** Remembers `entry`, replacing the one of the same `distributorUrl`. Resolves once it is kept. */
  remember(entry: TrustedKey): Promise<void>;
}

/** A {@link KeyMemory} that lives as long as the object: a key change within one run is still refused. */
export function inMemoryKeyMemory(): KeyMemory {
  const entries = new Map<string, TrustedKey>();
  return {
    load: () => Promise.resolve([...entries.values()]),
    remember: (entry) => {
      entries.set(entry.distributorUrl, entry);
      return Promise.resolve();
    },
  };
}
