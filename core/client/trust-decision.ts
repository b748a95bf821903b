import { TrustKeyMismatchError } from "./errors.js";
import type { TrustedKey } from "./key-memory.js";

/** What a client knows at Join about the key it is asked to trust. Keys are base64. */
export interface TrustContact {
  /** The distributor URL the client was pointed at (not a redirect target: a redirect cannot pick the grid). */
  distributorUrl: string;
  /** The manager group the distributor announced ("" when none). */
  groupId: string;
  /** The key the distributor announced (undefined when none). */
  announced: string | undefined;
  /** The key the user pinned (`--trust`), if any. */
  pinned: string | undefined;
}

/**
 * Which key programs are verified with, and why: `pinned` (the user's `--trust`), `remembered`
 * (trusted before for this URL) or `first-use` (trusted now, on first contact). `remember` is the
 * entry to store before anything runs, if the memory must change. `publicKey` is undefined only when
 * nothing is pinned, remembered or announced (then no program can verify).
 */
export type TrustDecision =
  | {
      readonly ok: true;
      readonly publicKey: string | undefined;
      readonly how: "pinned" | "remembered" | "first-use" | "none";
      readonly remember: TrustedKey | undefined;
    }
  | { readonly ok: false; readonly error: TrustKeyMismatchError };

/**
 * Decides whether to trust the key a distributor announced at Join.
 *
 * - A pinned key wins: the announced key must equal it, and it replaces what was remembered for the
 *   URL (passing the new key with `--trust` is how a rotation is accepted).
 * - Else a key remembered for the URL must equal the announced one.
 * - Else, first use: the announced key is trusted and remembered, unless a remembered entry of the
 *   same announced group has another key. The group id is the distributor's unsigned word, so it
 *   only ever adds a refusal; the URL the user chose is what identifies the grid, so a distributor
 *   cannot escape a remembered key by announcing a fresh group.
 */
export function trustDecision(contact: TrustContact, remembered: readonly TrustedKey[]): TrustDecision {
  const { distributorUrl, groupId, announced, pinned } = contact;
  const known = remembered.find((entry) => entry.distributorUrl === distributorUrl);
  const refuse = (source: "pinned" | "remembered", trustedKey: string, announcedKey: string): TrustDecision => ({
    ok: false,
    error: new TrustKeyMismatchError(distributorUrl, source, trustedKey, announcedKey),
  });
  if (pinned !== undefined) {
    if (announced !== undefined && announced !== pinned) return refuse("pinned", pinned, announced);
    const entry = { distributorUrl, groupId: groupId || (known?.groupId ?? ""), publicKey: pinned };
    return { ok: true, publicKey: pinned, how: "pinned", remember: sameEntry(known, entry) ? undefined : entry };
  }
  if (known !== undefined) {
    if (announced !== undefined && announced !== known.publicKey) return refuse("remembered", known.publicKey, announced);
    const entry = { ...known, groupId: groupId || known.groupId };
    return { ok: true, publicKey: known.publicKey, how: "remembered", remember: sameEntry(known, entry) ? undefined : entry };
  }
  if (announced === undefined) return { ok: true, publicKey: undefined, how: "none", remember: undefined };
  const sameGroup = groupId === "" ? undefined : remembered.find((entry) => entry.groupId === groupId && entry.publicKey !== announced);
  if (sameGroup !== undefined) return refuse("remembered", sameGroup.publicKey, announced);
  return { ok: true, publicKey: announced, how: "first-use", remember: { distributorUrl, groupId, publicKey: announced } };
}

function sameEntry(a: TrustedKey | undefined, b: TrustedKey): boolean {
  return a !== undefined && a.distributorUrl === b.distributorUrl && a.groupId === b.groupId && a.publicKey === b.publicKey;
}
