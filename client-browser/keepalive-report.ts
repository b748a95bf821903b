import { create, toBinary } from "@bufbuild/protobuf";
import type { FarewellSend } from "../core/client/client-handler-deps.js";
import { DistributorService, DistributorServiceReportRequestSchema } from "../gen/disio/v1/distributor_service_pb.js";

const REPORT_PATH = `/${DistributorService.typeName}/${DistributorService.method.report.name}`;

/**
 * Sends a farewell as Connect unary POSTs built by hand (binary protobuf) with `fetch`. The first
 * request is issued synchronously with `keepalive: true`, so it survives the page unloading (its
 * body fits the 64 KiB browsers allow such requests); later ones are plain fetches, sent only if the
 * page lives on. Resolves when every request was answered 2xx, rejects otherwise.
 */
export const keepaliveReport: FarewellSend = (target, requests) => {
  const sent = requests.map((request, index) =>
    fetch(target.url + REPORT_PATH, {
      method: "POST",
      keepalive: index === 0,
      mode: "cors",
      credentials: "omit",
      headers: { ...target.headers, "content-type": "application/proto", "connect-protocol-version": "1" },
      body: toBinary(DistributorServiceReportRequestSchema, create(DistributorServiceReportRequestSchema, request)),
    }).then((response) => {
      if (!response.ok) throw new Error(`farewell report: HTTP ${response.status}`);
    }),
  );
  return Promise.all(sent).then(() => undefined);
};
