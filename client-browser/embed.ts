/**
 * Entry of client.js: `<script src="http://DISTRIBUTOR/client.js" async></script>` turns the page's
 * visitors into workers. Reads the tag's `data-*` attributes (see {@link resolveEmbedOptions}), sets
 * `window.disio` and, unless `data-autostart="false"`, starts computing.
 */
import { BrowserClient } from "./browser-client.js";
import { resolveEmbedOptions } from "./embed-options.js";

function ownScript(): HTMLScriptElement | undefined {
  const current = document.currentScript;
  if (current instanceof HTMLScriptElement) return current;
  const tags = document.querySelectorAll<HTMLScriptElement>('script[src*="client.js"]');
  return tags[tags.length - 1];
}

if (window.disio === undefined) {
  const script = ownScript();
  const src = script?.src ?? location.href;
  const options = resolveEmbedOptions(script?.dataset ?? {}, src, navigator.hardwareConcurrency);
  const client = new BrowserClient(options, new URL("runner.html", src).href);
  window.disio = client;
  if (options.autostart) client.start();
}
