import { InvalidArgumentError } from "commander";
import { parseDurationMs } from "./parse-duration.js";

// commander option parsers shared by several commands: a bad value fails while the command line is
// parsed, so commander prints one line naming the option and the command exits 1.

/** A whole number ≥ 0. */
export function wholeNumber(text: string): number {
  if (!/^\d+$/.test(text)) throw new InvalidArgumentError("expected a whole number");
  return Number(text);
}

/** A whole number ≥ 1 (a count of units, samples or processes). */
export function countOf(text: string): number {
  const value = wholeNumber(text);
  if (value < 1) throw new InvalidArgumentError("expected a whole number of at least 1");
  return value;
}

/** A duration such as `500ms`, `90s` or `5m` (a bare number is seconds), in milliseconds. */
export function duration(text: string): number {
  try {
    return parseDurationMs(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** A fraction from 0 to 1, e.g. `0.05`. */
export function fraction(text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !(value >= 0 && value <= 1)) throw new InvalidArgumentError("expected a fraction from 0 to 1, e.g. 0.05");
  return value;
}
