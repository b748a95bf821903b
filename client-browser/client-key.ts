/** The localStorage item that holds the browser's stable client key. */
export const CLIENT_KEY_ITEM = "disio:client-key";

const VALID_KEY = /^[\x21-\x7e]{16,128}$/;

/**
 * The browser's stable client key (JoinRequest.client_key): read from the page's localStorage, or
 * made (32 random bytes, base64url: 43 printable ASCII characters) and kept there on first use, so
 * a visitor coming back to the site is the same volunteer to the grid (its copies of a unit count
 * once toward a quorum, its trust grows across visits). Where storage is unavailable (disabled,
 * blocked, full) the key lives as long as the page. A stored value that is not 16–128 printable
 * ASCII characters is replaced.
 */
export function browserClientKey(storage: Storage | undefined, random: (bytes: Uint8Array) => Uint8Array = (bytes) => crypto.getRandomValues(bytes)): string {
  const stored = read(storage);
  if (stored !== undefined && VALID_KEY.test(stored)) return stored;
  let binary = "";
  for (const byte of random(new Uint8Array(32))) binary += String.fromCharCode(byte);
  const key = btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  try {
    storage?.setItem(CLIENT_KEY_ITEM, key);
  } catch {
    // Full or blocked: the key lasts as long as the page.
  }
  return key;
}

function read(storage: Storage | undefined): string | undefined {
  try {
    return storage?.getItem(CLIENT_KEY_ITEM) ?? undefined;
  } catch {
    return undefined;
  }
}

/** The page's localStorage, or undefined where reading it throws (storage disabled or blocked for this origin). */
export function pageStorage(): Storage | undefined {
  try {
    return globalThis.localStorage ?? undefined;
  } catch {
    return undefined;
  }
}
