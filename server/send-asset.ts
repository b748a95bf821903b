import type { HttpListener } from "./http-listener.js";
import type { StaticAsset } from "./server-options.js";

/** Which of an asset's encodings to send for an `Accept-Encoding` header: brotli, then gzip, else none. */
export function pickEncoding(acceptEncoding: string | undefined, encoded: StaticAsset["encoded"]): "br" | "gzip" | undefined {
  if (acceptEncoding === undefined || encoded === undefined) return undefined;
  const accepted = new Map<string, number>();
  for (const part of acceptEncoding.toLowerCase().split(",")) {
    const [name, ...params] = part.trim().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    accepted.set((name ?? "").trim(), q === undefined ? 1 : Number.parseFloat(q.slice(2)) || 0);
  }
  const ok = (name: string) => (accepted.get(name) ?? accepted.get("*") ?? 0) > 0;
  if (encoded.br !== undefined && ok("br")) return "br";
  if (encoded.gzip !== undefined && ok("gzip")) return "gzip";
  return undefined;
}

/**
 * Sends a static asset: 304 when `If-None-Match` names its ETag, else the body, compressed when the
 * client accepts one of its encodings (`Vary: Accept-Encoding`), with its cache policy and headers.
 */
export function sendAsset(req: Parameters<HttpListener>[0], res: Parameters<HttpListener>[1], asset: StaticAsset): void {
  const headers: Record<string, string | number> = {
    ...asset.headers,
    "content-type": asset.contentType,
    "cache-control": asset.cacheSeconds ? `public, max-age=${asset.cacheSeconds}` : "no-cache",
  };
  if (asset.encoded !== undefined) headers.vary = "Accept-Encoding";
  if (asset.etag !== undefined) {
    headers.etag = asset.etag;
    const match = req.headers["if-none-match"];
    if (typeof match === "string" && match.split(",").some((tag) => tag.trim().replace(/^W\//, "") === asset.etag)) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
  }
  const encoding = pickEncoding(req.headers["accept-encoding"] as string | undefined, asset.encoded);
  const body = encoding !== undefined ? (asset.encoded?.[encoding] as Uint8Array) : typeof asset.body === "string" ? Buffer.from(asset.body) : asset.body;
  if (encoding !== undefined) headers["content-encoding"] = encoding;
  headers["content-length"] = body.byteLength;
  res.writeHead(200, headers);
  if (req.method === "HEAD") res.end();
  else res.end(body);
}
