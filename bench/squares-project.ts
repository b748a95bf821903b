import { durationFromMs } from "@bufbuild/protobuf/wkt";

const encoder = new TextEncoder();

/**
 * The trust scenarios' project (test/distinct-volunteers.test.ts, bench/adaptive-replication.ts):
 * squares with replication 2 / quorum 2, leases long enough that nothing times out under load.
 * Spread it into a CreateProjectRequest with a name.
 */
export const SQUARES = {
  programSource: "export default (input) => ({ n: input.n, square: input.n * input.n });",
  replication: 2,
  quorum: 2,
  maxAttempts: 6,
  leaseTimeout: durationFromMs(600_000),
};

/** `count` AddUnits inputs `{ n }` for n = 0 … count - 1. */
export function squaresInputs(count: number): { input: Uint8Array }[] {
  return Array.from({ length: count }, (_, n) => ({ input: encoder.encode(JSON.stringify({ n })) }));
}
