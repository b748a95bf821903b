/** A one-line progress bar redrawn in place on a TTY; does nothing elsewhere. */
export interface ProgressBar {
  /** Redraws with `done` of `total` and an optional suffix (e.g. a rate). */
  update(done: number, total: number, suffix?: string): void;
  /** Ends the line. */
  finish(): void;
}

/** Renders `done/total` as a bar of `width` cells: pure, for tests and the TTY bar. */
export function renderBar(done: number, total: number, width = 30): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(fraction * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${(fraction * 100).toFixed(1).padStart(5)}% ${done}/${total}`;
}

/** A progress bar on `stream` (default stderr) when it is a TTY. */
export function createProgressBar(label: string, stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  if (!stream.isTTY) return { update() {}, finish() {} };
  let drawn = false;
  return {
    update(done, total, suffix = "") {
      stream.write(`\r${label} ${renderBar(done, total)} ${suffix}\x1b[K`);
      drawn = true;
    },
    finish() {
      if (drawn) stream.write("\n");
      drawn = false;
    },
  };
}
