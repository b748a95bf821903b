import pino, { type Logger } from "pino";
import pretty from "pino-pretty";

/**
 * The CLI's logger: pino JSON lines on stderr, or pretty lines when stderr is a TTY.
 * `DISIO_LOG_LEVEL` sets the level (default `info`). Only the CLI reads the environment.
 */
export function createCliLogger(level = process.env.DISIO_LOG_LEVEL ?? "info"): Logger {
  if (process.stderr.isTTY) {
    return pino({ level }, pretty({ destination: 2, sync: true, colorize: true, ignore: "pid,hostname" }));
  }
  return pino({ level }, pino.destination({ dest: 2, sync: false }));
}
