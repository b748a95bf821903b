/** Which backend a `--store` value names. */
export type StoreLocation = { kind: "sqlite" } | { kind: "redis"; url: string };

/**
 * Parses a distributor's `--store`: `sqlite` (the data folder's `distributor.sqlite`) or a Redis
 * URL, `redis://[user:password@]host[:port][/db]` (`rediss://` for TLS). Throws a `TypeError`
 * naming the value for anything else.
 */
export function parseStoreUrl(value: string): StoreLocation {
  if (value === "sqlite") return { kind: "sqlite" };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`store: expected "sqlite" or redis://host:port/db, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new TypeError(`store: unsupported backend ${JSON.stringify(url.protocol.replace(/:$/, ""))} (sqlite or redis://)`);
  }
  if (url.hostname === "") throw new TypeError(`store: ${JSON.stringify(value)} names no host`);
  const db = url.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d+$/.test(db)) throw new TypeError(`store: Redis database must be a number, got ${JSON.stringify(db)}`);
  return { kind: "redis", url: value };
}
