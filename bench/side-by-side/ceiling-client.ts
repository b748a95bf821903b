/**
 * The ceiling's client process: takes tasks off a Work stream and reports each one's input as its
 * output, in Reports of up to 1,000 with two in flight, computing nothing. Args: server URL, slots.
 */
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { TaskResultSchema, type TaskResult } from "../../gen/disio/v1/common_pb.js";
import { DistributorService } from "../../gen/disio/v1/distributor_service_pb.js";

const [baseUrl, slots] = process.argv.slice(2);
const client = createClient(DistributorService, createConnectTransport({ baseUrl: baseUrl!, httpVersion: "2", useBinaryFormat: true }));
const pending: TaskResult[] = [];
let inFlight = 0;

function flush(): void {
  while (pending.length > 0 && inFlight < 2) {
    const results = pending.splice(0, 1_000);
    inFlight += 1;
    client.report({ results }).then(
      () => {
        inFlight -= 1;
        flush();
      },
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  }
}

for await (const batch of client.work({ slots: Number(slots) })) {
  for (const task of batch.tasks) pending.push(create(TaskResultSchema, { copyId: task.copyId, outcome: { case: "output", value: task.input }, duration: { seconds: 0n, nanos: 1000 } }));
  flush();
}
