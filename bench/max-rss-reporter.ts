import { writeFileSync } from "node:fs";

/**
 * Preloaded with `node --import` into a process whose peak memory a benchmark measures: on exit,
 * writes the process's peak resident set size (KiB, from getrusage) to `$DISIO_MAX_RSS_FILE`.
 */
const file = process.env.DISIO_MAX_RSS_FILE;
if (file) process.on("exit", () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
