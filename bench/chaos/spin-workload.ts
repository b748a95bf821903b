import { listAllResults } from "../../cli/list-all-results.js";
import { addNumberUnits, createProjectFrom, type GridServers } from "../grid-fixture.js";

/** A project of units `{ n }` whose program spins a little and returns `{ n, square }`. */
export interface SpinWorkload {
  projectId: string;
  /** Unit ids; unit `ids[n]` has input `{ n }`. */
  ids: string[];
}

/** What the manager's results say about a {@link SpinWorkload}. */
export interface ResultAudit {
  /** Units with no result, or whose only result is wrong. */
  lost: number;
  /** Result rows beyond the first for a unit (ListResults should list each unit once). */
  duplicates: number;
  /** Units with a wrong output. */
  wrong: number;
}

/** Busy-waits `spinMs` per unit, so a run lasts long enough to disturb it. */
function spinProgram(spinMs: number): string {
  return `export default function work(input) {
  const until = performance.now() + ${spinMs};
  let x = 0;
  while (performance.now() < until) x++;
  return { n: input.n, square: input.n * input.n };
}
`;
}

/** Creates the project and adds `units` units. */
export async function createSpinWorkload(
  grid: GridServers,
  options: { name: string; units: number; spinMs: number; replication?: number; quorum?: number },
): Promise<SpinWorkload> {
  // A long manager lease: a copy the chaos loses track of must show as a lost unit, not be quietly
  // re-leased and computed again before the run ends.
  const projectId = await createProjectFrom(grid, options.name, spinProgram(options.spinMs), {
    leaseTimeoutSeconds: 600,
    replication: options.replication,
    quorum: options.quorum,
  });
  return { projectId, ids: await addNumberUnits(grid, projectId, options.units) };
}

/** Reads every result row of the workload and counts lost, duplicated and wrong units. */
export async function auditResults(grid: GridServers, workload: SpinWorkload): Promise<ResultAudit> {
  const decoder = new TextDecoder();
  const inputOf = new Map(workload.ids.map((id, n) => [id, n]));
  const rows = new Map<string, number>();
  const right = new Set<string>();
  let wrong = 0;
  for await (const result of listAllResults(grid.admin, workload.projectId)) {
    rows.set(result.unitId, (rows.get(result.unitId) ?? 0) + 1);
    const n = inputOf.get(result.unitId);
    const output = decoder.decode(result.output);
    if (n !== undefined && output === JSON.stringify({ n, square: n * n })) right.add(result.unitId);
    else wrong++;
  }
  const duplicates = [...rows.values()].reduce((sum, count) => sum + count - 1, 0);
  return { lost: workload.ids.length - right.size, duplicates, wrong };
}
