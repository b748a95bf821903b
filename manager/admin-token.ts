import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** File name of the generated admin token inside the data folder. */
export const ADMIN_TOKEN_FILE = "admin-token";

/**
 * The admin token: `given` when set, else the one in `<dataDir>/admin-token`, else a new random
 * one (32 bytes, base64url) written there with mode 0600 so the local CLI can read it.
 */
export function loadOrCreateAdminToken(dataDir: string, given?: string): string {
  if (given !== undefined && given !== "") return given;
  const path = join(dataDir, ADMIN_TOKEN_FILE);
  try {
    const stored = readFileSync(path, "utf8").trim();
    if (stored !== "") return stored;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const token = randomBytes(32).toString("base64url");
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  return token;
}
