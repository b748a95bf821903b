import { join } from "node:path";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { freePort, startManagerProcess, type GridProcess } from "../bench/grid-processes.js";
import { createAdminClient } from "../cli/admin-client.js";

const encoder = new TextEncoder();

/**
 * A manager process (data and logs in `dir`) holding one project that squares `{ n }` inputs, with
 * `units` of them added (n = 0 …), a lease long enough never to expire in a test, and a new
 * distributor's token: the set-up of the tests in which the test itself is the client of a real
 * distributor and checks every output it was acknowledged for. The manager joins `processes` as soon
 * as it runs, so the test's clean-up stops it whatever fails next.
 */
export async function startSquaresManager(
  dir: string,
  name: string,
  units: number,
  processes: GridProcess[],
): Promise<{ manager: GridProcess; admin: ReturnType<typeof createAdminClient>; projectId: string; token: string }> {
  const adminToken = `${name}-admin-token`;
  const manager = await startManagerProcess({ dataDir: join(dir, "manager"), port: await freePort(), adminToken, logDir: dir });
  processes.push(manager);
  const admin = createAdminClient({ manager: manager.url, token: adminToken });
  const { project } = await admin.createProject({
    name,
    programSource: "export default (input) => ({ n: input.n, square: input.n * input.n });",
    leaseTimeout: durationFromMs(600_000),
  });
  const projectId = project!.id;
  await admin.addUnits({ projectId, units: Array.from({ length: units }, (_, n) => ({ input: encoder.encode(JSON.stringify({ n })) })) });
  const { token } = await admin.createDistributor({ name: "edge" });
  return { manager, admin, projectId, token };
}
