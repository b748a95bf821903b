/**
 * Events per second over a sliding window: keeps the times of the events inside it. Used for the
 * page's units/s.
 */
export class RateWindow {
  private times: number[] = [];
  private firstMs: number | undefined;

  constructor(private readonly windowMs: number) {}

  /** Records an event at `nowMs`. */
  add(nowMs: number): void {
    this.firstMs ??= nowMs;
    this.times.push(nowMs);
    if (this.times.length > 4096) this.prune(nowMs);
  }

  /** Events per second over the window ending at `nowMs` (over less, while the first is younger). */
  perSecond(nowMs: number): number {
    this.prune(nowMs);
    if (this.firstMs === undefined || this.times.length === 0) return 0;
    const spanMs = Math.min(this.windowMs, Math.max(1_000, nowMs - this.firstMs));
    return (this.times.length * 1000) / spanMs;
  }

  private prune(nowMs: number): void {
    const from = nowMs - this.windowMs;
    let drop = 0;
    while (drop < this.times.length && (this.times[drop] as number) < from) drop++;
    if (drop > 0) this.times = this.times.slice(drop);
  }
}
