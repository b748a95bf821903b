import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The file in the worker's home folder that holds its stable client key. */
export const WORKER_KEY_FILE = "worker-id";

/**
 * The machine's stable client key (JoinRequest.client_key): read from `<homeDir>/worker-id`, or made
 * (32 random bytes, base64url) and written there, readable by its owner only, on first use. Every
 * worker started with the same home is one volunteer to the grid: its copies of a unit never count
 * twice toward a quorum, and its trust grows across restarts. A second process racing to create the
 * file reads the one that won.
 */
export function loadOrCreateWorkerKey(homeDir: string): string {
  const path = join(homeDir, WORKER_KEY_FILE);
  const existing = readKey(path);
  if (existing !== undefined) return existing;
  mkdirSync(homeDir, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(path, `${randomBytes(32).toString("base64url")}\n`, { flag: "wx", mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const made = readKey(path);
  if (made === undefined) throw new Error(`${path}: not a client key (16 to 128 printable ASCII characters); delete it to make a new one`);
  return made;
}

function readKey(path: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8").trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  if (!/^[\x21-\x7e]{16,128}$/.test(text)) throw new Error(`${path}: not a client key (16 to 128 printable ASCII characters); delete it to make a new one`);
  return text;
}
