import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterEach, describe, expect, it } from "vitest";
import { ProjectState, type Task } from "../gen/disio/v1/common_pb.js";
import { DistributorStatus } from "../gen/disio/v1/admin_service_pb.js";
import { DistributorService } from "../gen/disio/v1/distributor_service_pb.js";
import { startGridServers, waitFor, type GridServers } from "../bench/grid-fixture.js";
import { joinRetrying } from "./join-retrying.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The manager's heartbeat directives obeyed end to end, through real manager and distributor
 * processes, the test being the client: a cancelled unit leaves the client's hands (a cancel message
 * on its Work stream), a paused project's held copies are not served until it is resumed, and a
 * draining distributor finishes what it holds, flushes its results and leases nothing more.
 */
describe("heartbeat directives end to end", () => {
  let grid: GridServers | undefined;
  const stream = new AbortController();
  afterEach(async () => {
    stream.abort();
    await grid?.close();
    grid = undefined;
  });

  it("cancels, pauses and drains", async () => {
    grid = await startGridServers({ prefix: "disio-directives-" });
    const { admin } = grid;
    const project = async (name: string, units: number) => {
      const { project } = await admin.createProject({ name, programSource: "export default (input) => input.n * input.n;" });
      await admin.addUnits({ projectId: project!.id, units: Array.from({ length: units }, (_, n) => ({ input: encoder.encode(JSON.stringify({ n })) })) });
      return project!.id;
    };
    const counts = async (projectId: string) => (await admin.getStats({ projectId })).projects[0]!.counts!;

    const client = createClient(DistributorService, createConnectTransport({ baseUrl: grid.distributor.url, httpVersion: "1.1" }));
    const { sessionToken } = await joinRetrying(client);
    const headers = { authorization: `Bearer ${sessionToken}` };
    const received: Task[] = [];
    const cancelled: string[] = [];
    const reading = (async () => {
      for await (const message of client.work({ slots: 2 }, { headers, signal: stream.signal })) {
        received.push(...message.tasks);
        cancelled.push(...message.cancelledCopyIds);
      }
    })().catch(() => undefined);
    const report = async (tasks: readonly Task[]) => {
      const results = tasks.map((task) => {
        const { n } = JSON.parse(decoder.decode(task.input)) as { n: number };
        return { copyId: task.copyId, outcome: { case: "output" as const, value: encoder.encode(JSON.stringify(n * n)) } };
      });
      await client.report({ results }, { headers });
    };

    // Both slots hold the two units of `first`; then `second`'s three are leased and held, unserved.
    const first = await project("first", 2);
    await waitFor("both units of the first project in the client's hands", async () => received.length === 2, 30_000);
    const second = await project("second", 3);
    await waitFor("the second project's units leased", async () => (await counts(second)).running === 3n, 30_000);

    // Paused, then a unit in the client's hands cancelled: its slot frees, and the only copies held
    // are the paused project's, so nothing comes.
    await admin.updateProject({ id: second, state: ProjectState.PAUSED });
    const [x] = received as [Task];
    await admin.cancelUnits({ projectId: first, unitIds: [x.unitId] });
    await waitFor("the cancel message on the Work stream", async () => cancelled.length === 1, 30_000);
    expect(cancelled).toEqual([x.copyId]);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(received.map((t) => t.projectId), "no copy of the paused project served").toEqual([first, first]);

    // Drained, then resumed: the answer that resumes carries the drain, so once a copy of the
    // resumed project arrives the distributor stopped leasing. It still serves what it holds.
    const { distributors } = await admin.listDistributors({});
    await admin.drainDistributor({ id: distributors[0]!.id });
    await admin.updateProject({ id: second, state: ProjectState.ACTIVE });
    await waitFor("a copy of the resumed project", async () => received.length === 3, 30_000);
    const third = await project("third", 2);
    let reported = received.length;
    await report(received.slice(1));
    while (reported < 5) {
      await waitFor("the next copy", async () => received.length > reported, 30_000);
      await report(received.slice(reported));
      reported = received.length;
    }
    expect(received.slice(2).map((t) => t.projectId)).toEqual([second, second, second]);

    // Finished and flushed: every result at the manager, nothing held or buffered; the third project untouched.
    await waitFor("the results flushed", async () => (await counts(second)).done === 3n && (await counts(first)).done === 1n, 30_000);
    expect(await counts(first)).toMatchObject({ done: 1n, cancelled: 1n });
    await waitFor("the distributor empty", async () => {
      const [d] = (await admin.listDistributors({})).distributors;
      return d!.heldCopies === 0 && d!.bufferedResults === 0 && d!.status === DistributorStatus.DRAINING;
    }, 30_000);
    expect(await counts(third)).toMatchObject({ queued: 2n, running: 0n });
    stream.abort();
    await reading;
  }, 180_000);
});
