import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { KeyMemory, TrustedKey } from "../core/client/key-memory.js";

/** A key as the file keeps it: a {@link TrustedKey} and when it was trusted. */
interface StoredKey extends TrustedKey {
  trustedAt: string;
}

/** The file's format version. */
const FORMAT_VERSION = 1;

/**
 * The worker's memory of trusted manager keys: a JSON file (`{ "version": 1, "keys": [...] }`,
 * mode 0600, its folder created 0700), read at every Join and rewritten atomically (temp file and
 * rename) when a key is trusted, so workers sharing the file see each other's keys. Throws
 * `TypeError` naming the file when it is not such a file: a worker never guesses past a damaged trust
 * store.
 */
export function trustedKeysFile(path: string): KeyMemory {
  const read = (): StoredKey[] => {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    return parseKeys(path, text);
  };
  return {
    load: async () => read(),
    remember: async (entry) => {
      const keys = read().filter((key) => key.distributorUrl !== entry.distributorUrl);
      keys.push({ distributorUrl: entry.distributorUrl, groupId: entry.groupId, publicKey: entry.publicKey, trustedAt: new Date().toISOString() });
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      const temp = `${path}.${process.pid}.tmp`;
      writeFileSync(temp, `${JSON.stringify({ version: FORMAT_VERSION, keys }, null, 2)}\n`, { mode: 0o600 });
      renameSync(temp, path);
    },
  };
}

function parseKeys(path: string, text: string): StoredKey[] {
  const damaged = (why: string) => new TypeError(`${path} is not a dis.io trusted-keys file (${why}); fix or remove it`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw damaged("not JSON");
  }
  const file = parsed as { version?: unknown; keys?: unknown };
  if (typeof file !== "object" || file === null || file.version !== FORMAT_VERSION || !Array.isArray(file.keys)) throw damaged(`expected version ${FORMAT_VERSION} and a keys list`);
  return file.keys.map((key: Partial<StoredKey>, i) => {
    if (typeof key?.distributorUrl !== "string" || typeof key.groupId !== "string" || typeof key.publicKey !== "string") {
      throw damaged(`entry ${i} needs distributorUrl, groupId and publicKey strings`);
    }
    return { distributorUrl: key.distributorUrl, groupId: key.groupId, publicKey: key.publicKey, trustedAt: typeof key.trustedAt === "string" ? key.trustedAt : "" };
  });
}
