import { SingleBar } from "cli-progress";

/** A one-line progress bar with rate and ETA, redrawn in place on a TTY; does nothing elsewhere. */
export interface ProgressBar {
  /** Redraws with `done` of `total` and an optional note (e.g. "retry 2/5"). */
  update(done: number, total: number, note?: string): void;
  /** Ends the line. */
  finish(): void;
}

/**
 * A cli-progress bar on `stream` (default stderr) when it is a TTY: `label [████░░] 42% 4200/10000
 * 1,234/s ETA 5s`. `unit` names what is counted in the rate (default "units").
 */
export function createProgressBar(label: string, stream: NodeJS.WriteStream = process.stderr, unit = "units"): ProgressBar {
  if (!stream.isTTY) return { update() {}, finish() {} };
  const bar = new SingleBar({
    stream,
    format: `${label} [{bar}] {percentage}% {value}/{total} {rate} ETA {eta_formatted} {note}`,
    barCompleteChar: "█",
    barIncompleteChar: "░",
    hideCursor: true,
    etaBuffer: 50,
    fps: 5,
  });
  const started = Date.now();
  let running = false;
  return {
    update(done, total, note = "") {
      const perSecond = done / Math.max(0.001, (Date.now() - started) / 1000);
      const payload = { rate: `${Math.round(perSecond).toLocaleString("en")} ${unit}/s`, note };
      if (!running) {
        bar.start(total, done, payload);
        running = true;
      } else {
        bar.setTotal(total);
        bar.update(done, payload);
      }
    },
    finish() {
      if (running) bar.stop();
      running = false;
    },
  };
}
