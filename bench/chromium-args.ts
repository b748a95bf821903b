/**
 * Chromium flags for the browser tests and benchmarks (CI): headless, no sandbox (root in
 * containers), nothing phoning home.
 */
export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"];
