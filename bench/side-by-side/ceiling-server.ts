/**
 * The ceiling's server process: a bare DistributorService on h2c with no storage. Its Work stream
 * hands out `jobs` trivial tasks (the same Task messages a distributor sends) within the client's
 * credit; Report counts results and frees credit. Args: port, jobs. Prints "listening", then, once
 * every result is in, "done <seconds from the first task to the last result>".
 */
import { createServer } from "node:http2";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Encoding } from "../../gen/disio/v1/common_pb.js";
import { DistributorService, WorkResponseSchema, type WorkResponse } from "../../gen/disio/v1/distributor_service_pb.js";
import { TaskSchema } from "../../gen/disio/v1/common_pb.js";

const [port, jobsArg] = process.argv.slice(2).map(Number);
const jobs = jobsArg!;
const encoder = new TextEncoder();
const programHash = "0".repeat(64);
const seen = new Uint8Array(jobs);
let sent = 0;
let received = 0;
let inHand = 0;
let firstSent = 0;
let wake: (() => void) | undefined;

const routes = connectNodeAdapter({
  routes: (router) =>
    router.service(DistributorService, {
      async *work(req, call): AsyncIterable<WorkResponse> {
        const slots = req.slots;
        while (sent < jobs && !call.signal.aborted) {
          if (inHand >= slots) {
            await new Promise<void>((resolve) => (wake = resolve));
            continue;
          }
          const n = Math.min(slots - inHand, 1_000, jobs - sent);
          if (sent === 0) firstSent = performance.now();
          const deadline = timestampFromMs(Date.now() + 60_000);
          const tasks = Array.from({ length: n }, (_, k) =>
            create(TaskSchema, {
              copyId: `c${(sent + k + 1).toString(36)}`,
              unitId: `u${(sent + k + 1).toString(36)}`,
              projectId: "p1",
              programHash,
              input: encoder.encode(`{"i":${sent + k}}`),
              inputEncoding: Encoding.JSON,
              outputEncoding: Encoding.JSON,
              deadline,
            }),
          );
          sent += n;
          inHand += n;
          yield create(WorkResponseSchema, { tasks });
        }
        await new Promise((resolve) => call.signal.addEventListener("abort", resolve));
      },
      async report(req) {
        for (const result of req.results) {
          const index = Number.parseInt(result.copyId.slice(1), 36) - 1;
          if (seen[index] === 0) {
            seen[index] = 1;
            received += 1;
          }
        }
        inHand -= req.results.length;
        wake?.();
        wake = undefined;
        if (received === jobs) console.log(`done ${(performance.now() - firstSent) / 1000}`);
        return { accepted: req.results.length };
      },
    }),
});
createServer(routes).listen(port, "127.0.0.1", () => console.log("listening"));
