import type { UnitState } from "../../../core/unit-transitions.js";

/** Counter columns of `projects`, in the order {@link CountDeltas.rows} returns them. */
export const COUNTER_COLUMNS = ["n_queued", "n_running", "n_done", "n_failed", "n_expired", "n_cancelled", "n_total", "copies_out"] as const;
const STATE_INDEX: Record<UnitState, number> = { queued: 0, running: 1, done: 2, failed: 3, expired: 4, cancelled: 5 };

/**
 * Per-project counter changes gathered during one transaction and written once at its end, so a
 * batch of 5,000 units updates each project row once.
 */
export class CountDeltas {
  private readonly byProject = new Map<number, number[]>();

  /**
   * `count` units (default 1) moved from one state to another (undefined `from`: new units;
   * undefined `to`: deleted).
   */
  move(projectId: number, from: UnitState | undefined, to: UnitState | undefined, count = 1): void {
    if (from === to || count === 0) return;
    const row = this.row(projectId);
    if (from !== undefined) row[STATE_INDEX[from]]! -= count;
    else row[6]! += count;
    if (to !== undefined) row[STATE_INDEX[to]]! += count;
    else row[6]! -= count;
  }

  /** Copies out changed by `delta`. */
  copiesOut(projectId: number, delta: number): void {
    this.row(projectId)[7]! += delta;
  }

  /** The gathered changes: project id and one delta per {@link COUNTER_COLUMNS} entry. */
  rows(): Array<[number, number[]]> {
    return [...this.byProject.entries()];
  }

  private row(projectId: number): number[] {
    let row = this.byProject.get(projectId);
    if (row === undefined) {
      row = new Array<number>(COUNTER_COLUMNS.length).fill(0);
      this.byProject.set(projectId, row);
    }
    return row;
  }
}
