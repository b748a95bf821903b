import type { KeyMemory, TrustedKey } from "../core/client/key-memory.js";

/** The localStorage item that holds the manager keys a browser trusted, per distributor URL. */
export const TRUSTED_KEYS_ITEM = "disio:trusted-keys";

/**
 * A {@link KeyMemory} in the page's localStorage (JSON, one entry per distributor URL): a visitor's
 * browser trusts the manager key a distributor announces on its first visit and refuses a different
 * one on later visits (see docs/browser-client.md for what that does and does not protect). Entries
 * are also kept in memory, so a pin holds for the page's life where storage is unavailable or full;
 * an unreadable item counts as empty.
 */
export function localStorageKeyMemory(storage: Storage | undefined): KeyMemory {
  const entries = new Map<string, TrustedKey>();
  for (const entry of read(storage)) entries.set(entry.distributorUrl, entry);
  return {
    load: () => Promise.resolve([...entries.values()]),
    remember(entry) {
      entries.set(entry.distributorUrl, { distributorUrl: entry.distributorUrl, groupId: entry.groupId, publicKey: entry.publicKey });
      try {
        storage?.setItem(TRUSTED_KEYS_ITEM, JSON.stringify([...entries.values()]));
      } catch {
        // Full or blocked: the pin holds for this page only.
      }
      return Promise.resolve();
    },
  };
}

function read(storage: Storage | undefined): TrustedKey[] {
  try {
    const parsed: unknown = JSON.parse(storage?.getItem(TRUSTED_KEYS_ITEM) ?? "[]");
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(
      (entry): entry is TrustedKey =>
        typeof entry === "object" && entry !== null && typeof entry.distributorUrl === "string" && typeof entry.groupId === "string" && typeof entry.publicKey === "string",
    );
  } catch {
    return [];
  }
}
