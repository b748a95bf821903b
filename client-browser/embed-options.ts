/** Settings of the embed, read from its `<script>` tag's `data-*` attributes. */
export interface EmbedOptions {
  /** Distributor base URL: `data-distributor`, else the origin client.js was loaded from. */
  distributor: string;
  /** Web Workers: `data-threads`, default `hardwareConcurrency - 1`, at least 1. */
  threads: number;
  /** Share of each thread, 0.1 to 1: `data-cpu`, default 1. */
  cpu: number;
  /** Pause while the tab is hidden: `data-pause-hidden`, default true. */
  pauseHidden: boolean;
  /** Start on load: `data-autostart`, default true ("false" waits for `disio.start()`). */
  autostart: boolean;
  /**
   * The manager key to pin (`data-trust`, base64 of the raw 32-byte Ed25519 key `disio manager`
   * prints), as written; checked when the client starts. Default: trust on first use.
   */
  trust?: string;
}

/** Most threads a page may ask for. */
const MAX_THREADS = 64;

/**
 * Reads the tag's attributes (`dataset` keys: distributor, threads, cpu, pauseHidden, autostart, trust).
 * Malformed values fall back to the defaults (a site's typo must not break its page); numbers are
 * clamped to their ranges. `scriptSrc` is client.js's own URL.
 */
export function resolveEmbedOptions(dataset: Readonly<Record<string, string | undefined>>, scriptSrc: string, hardwareConcurrency: number): EmbedOptions {
  const defaultThreads = Math.max(1, (Number.isFinite(hardwareConcurrency) ? hardwareConcurrency : 2) - 1);
  const threads = Number.parseInt(dataset.threads ?? "", 10);
  const cpu = Number.parseFloat(dataset.cpu ?? "");
  return {
    distributor: distributorUrl(dataset.distributor, scriptSrc),
    threads: Number.isFinite(threads) ? Math.min(MAX_THREADS, Math.max(1, threads)) : defaultThreads,
    cpu: Number.isFinite(cpu) ? Math.min(1, Math.max(0.1, cpu)) : 1,
    pauseHidden: flag(dataset.pauseHidden, true),
    autostart: flag(dataset.autostart, true),
    ...(dataset.trust !== undefined && dataset.trust.trim() !== "" && { trust: dataset.trust.trim() }),
  };
}

function flag(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  const v = value.trim().toLowerCase();
  if (v === "false" || v === "0" || v === "no" || v === "off") return false;
  if (v === "" || v === "true" || v === "1" || v === "yes" || v === "on") return true;
  return fallback;
}

function distributorUrl(attribute: string | undefined, scriptSrc: string): string {
  const base = attribute !== undefined && attribute.trim() !== "" ? new URL(attribute.trim(), scriptSrc) : new URL(scriptSrc);
  if (attribute === undefined || attribute.trim() === "") return base.origin;
  return base.href.replace(/\/+$/, "");
}
