import type { CopyOutcome, UnitState } from "../../../core/unit-transitions.js";
import type { ProjectState } from "../store.js";

/** Stored unit states: the proto enum numbers. */
export const UNIT_STATE_CODE: Record<UnitState, number> = { queued: 1, running: 2, done: 3, failed: 4, expired: 5, cancelled: 6 };
/** The stored state of a canary unit: no proto state, so no by-state query, count or page sees it. */
export const CANARY_STATE = 0;
/** Stored copy outcomes: the proto enum numbers. */
export const OUTCOME_CODE: Record<CopyOutcome, number> = { pending: 1, ok: 2, error: 3, timeout: 4, invalid: 5, released: 6 };
/** Stored project states: the proto enum numbers. */
export const PROJECT_STATE_CODE: Record<ProjectState, number> = { active: 1, paused: 2, done: 3, expired: 4 };

/** The reverse of a code table. */
function invert<T extends string>(table: Record<T, number>): Map<number, T> {
  return new Map(Object.entries(table).map(([name, code]) => [code as number, name as T]));
}
const unitStates = invert(UNIT_STATE_CODE);
const outcomes = invert(OUTCOME_CODE);
const projectStates = invert(PROJECT_STATE_CODE);

/** A stored unit state code as a name. */
export function unitStateOf(code: number): UnitState {
  const state = unitStates.get(code);
  if (state === undefined) throw new Error(`corrupt unit state ${code}`);
  return state;
}
/** A stored outcome code as a name. */
export function outcomeOf(code: number): CopyOutcome {
  const outcome = outcomes.get(code);
  if (outcome === undefined) throw new Error(`corrupt copy outcome ${code}`);
  return outcome;
}
/** A stored project state code as a name. */
export function projectStateOf(code: number): ProjectState {
  const state = projectStates.get(code);
  if (state === undefined) throw new Error(`corrupt project state ${code}`);
  return state;
}
