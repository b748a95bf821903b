import type { DescMethod, DescService, MessageInitShape, UnknownField } from "@bufbuild/protobuf";
import { EmptySchema } from "@bufbuild/protobuf/wkt";
import { createClient, type CallOptions, type Transport } from "@connectrpc/connect";
import { DistributorService, type WorkRequestSchema } from "../../gen/disio/v1/distributor_service_pb.js";
import type { DistributorClient } from "./join-distributor.js";
import { encodeReportRequest } from "./report-request-encoder.js";
import { decodeWorkResponse } from "./work-response-decoder.js";

/** A Work stream whose messages are decoded with the empty schema: every field unknown. */
interface UndecodedWork {
  work(request: MessageInitShape<typeof WorkRequestSchema>, options?: CallOptions): AsyncIterable<{ $unknown?: UnknownField[] }>;
}

/**
 * A DistributorService client for a binary transport that decodes the Work stream's tasks and
 * encodes Report requests by hand ({@link decodeWorkResponse}, {@link encodeReportRequest}),
 * per task the two costliest messages of a client. Same URLs, requests, interceptors, errors and
 * typed answers as `createClient(DistributorService, transport)`. The transport must use the
 * binary format (a JSON Work stream would decode to empty messages, and Report's hand-written
 * bytes would be dropped).
 */
export function createBinaryDistributorClient(transport: Transport): DistributorClient {
  const typed = createClient(DistributorService, transport);
  const methods = [{ ...DistributorService.method.work, output: EmptySchema }] as DescMethod[];
  const raw = createClient({ methods } as DescService, transport) as unknown as UndecodedWork;
  return {
    ...typed,
    async *work(request, options) {
      for await (const message of raw.work(request, options)) yield decodeWorkResponse(message.$unknown);
    },
    report(request, options) {
      return typed.report(encodeReportRequest(request), options);
    },
  };
}
