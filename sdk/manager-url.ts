import { GridUrlError } from "./errors.js";

/**
 * Checks a manager URL before any call and returns it without a trailing slash. A URL without a
 * scheme (`127.0.0.1:7100`), with another scheme, or with a path is refused with a sentence saying
 * what to write instead, rather than connect's "Invalid URL".
 */
export function checkManagerUrl(url: string): string {
  const trimmed = url.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    throw new GridUrlError(`manager URL ${JSON.stringify(url)} has no scheme: write it as http://${trimmed || "127.0.0.1:7100"} (or https:// behind TLS)`);
  }
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    throw new GridUrlError(`manager URL ${JSON.stringify(url)} is not a valid URL, e.g. http://127.0.0.1:7100`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new GridUrlError(`manager URL ${JSON.stringify(url)} must start with http:// or https://, not ${parsed.protocol}//`);
  }
  return trimmed.replace(/\/+$/, "");
}
