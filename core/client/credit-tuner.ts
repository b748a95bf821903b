import { nextWorkSlots, slotsWithinBytes } from "./work-slots.js";

/** Weight of a new sample in the moving averages that drive slot growth. */
const EWMA_WEIGHT = 0.2;
/** Least time between two slot-growth decisions, ms. */
const GROWTH_INTERVAL_MS = 1_000;
/** Results a stream must have finished before its credit may grow. */
const RESULTS_BEFORE_GROWTH = 32;

/** The fixed inputs of a {@link CreditTuner}. */
export interface CreditTunerSettings {
  /** The credit a stream opens with, and the least it grows from. */
  floor: number;
  /** The most credit. */
  ceiling: number;
  /** Units the processor runs at once. */
  executors: number;
  /** Longest wait of a partial Report batch, ms. */
  reportDelayMs: number;
  /** Most task bytes in hand. */
  maxBytesInHand: number;
}

/**
 * The client's Work credit (`slots`), tuned by what it sees: it grows when units turn out faster
 * than the credit keeps up with (see `nextWorkSlots`), and shrinks at once when the tasks arriving
 * are too large for it (see `slotsWithinBytes`). The methods that change it return the new credit.
 */
export class CreditTuner {
  #slots: number;
  #meanRunMs: number | undefined;
  #meanTaskBytes: number | undefined;
  #roundTripMs: number | undefined;
  #lastGrowthCheckMs = 0;
  #resultsSinceOpen = 0;

  constructor(private readonly settings: CreditTunerSettings) {
    this.#slots = settings.floor;
  }

  /** The credit now. */
  get slots(): number {
    return this.#slots;
  }

  /** A Work stream opened: growth waits for its first results. */
  streamOpened(): void {
    this.#resultsSinceOpen = 0;
  }

  /** Notes the input size of a task received. */
  taskArrived(inputBytes: number): void {
    this.#meanTaskBytes = ewma(this.#meanTaskBytes, inputBytes);
  }

  /** Notes a result the processor finished (`runMs` of an OK run feeds the growth). */
  resultFinished(ok: boolean, runMs: number): void {
    this.#resultsSinceOpen++;
    if (ok) this.#meanRunMs = ewma(this.#meanRunMs, runMs);
  }

  /** Notes a Report's round trip, ms. */
  reportRoundTrip(ms: number): void {
    this.#roundTripMs = ewma(this.#roundTripMs, ms);
  }

  /** Shrinks the credit to what the tasks' size allows; the new credit, or undefined when unchanged. */
  capToBytes(): number | undefined {
    const cap = slotsWithinBytes(this.settings.floor, this.#meanTaskBytes ?? 0, this.settings.maxBytesInHand);
    if (this.#slots <= cap) return undefined;
    return (this.#slots = cap);
  }

  /** Grows the credit at most once a second; the new credit, or undefined when unchanged. */
  considerGrowth(nowMs: number, taskLeaseMs: number | undefined): number | undefined {
    if (this.#meanRunMs === undefined || this.#resultsSinceOpen < RESULTS_BEFORE_GROWTH) return undefined;
    if (nowMs - this.#lastGrowthCheckMs < GROWTH_INTERVAL_MS) return undefined;
    this.#lastGrowthCheckMs = nowMs;
    const grown = nextWorkSlots({
      current: this.#slots,
      floor: this.settings.floor,
      ceiling: this.settings.ceiling,
      executors: this.settings.executors,
      meanRunMs: this.#meanRunMs,
      cycleMs: this.settings.reportDelayMs + 2 * (this.#roundTripMs ?? 5),
      taskLeaseMs,
      meanTaskBytes: this.#meanTaskBytes ?? 0,
      maxBytesInHand: this.settings.maxBytesInHand,
    });
    if (grown === undefined) return undefined;
    return (this.#slots = grown);
  }
}

function ewma(previous: number | undefined, sample: number): number {
  return previous === undefined ? sample : previous + EWMA_WEIGHT * (sample - previous);
}
