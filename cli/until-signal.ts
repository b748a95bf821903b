/** How often a server started through `npx` checks that npm, its parent, is still there, ms. */
const PARENT_CHECK_MS = 1_000;

/**
 * Resolves on the first SIGINT or SIGTERM, so a long-running command can stop gracefully. A second
 * signal while stopping exits at once with code 130.
 *
 * Started through `npx disio …` (npm's exec wrapper), it also resolves, as `"SIGTERM"`, once npm
 * exits: `kill %1` on `npx disio manager &` kills npm, which does not pass the signal on, and the
 * server would otherwise keep serving with no job to stop it by.
 */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const parent = process.ppid;
    const watchParent = process.env.npm_command === "exec" || process.env.npm_lifecycle_event === "npx";
    const timer = watchParent
      ? setInterval(() => {
          if (process.ppid !== parent) first("SIGTERM");
        }, PARENT_CHECK_MS)
      : undefined;
    timer?.unref();
    const first = (signal: NodeJS.Signals) => {
      clearInterval(timer);
      process.off("SIGINT", first);
      process.off("SIGTERM", first);
      process.once("SIGINT", () => process.exit(130));
      process.once("SIGTERM", () => process.exit(130));
      resolve(signal);
    };
    process.on("SIGINT", first);
    process.on("SIGTERM", first);
  });
}
