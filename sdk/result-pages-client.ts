import type { DescMethod, DescService, MessageInitShape, UnknownField } from "@bufbuild/protobuf";
import { EmptySchema } from "@bufbuild/protobuf/wkt";
import { createClient, type CallOptions, type Transport } from "@connectrpc/connect";
import { AdminService, type ListResultsRequestSchema, type WatchResultsRequestSchema } from "../gen/disio/v1/admin_service_pb.js";
import { decodeResultPage, type ResultPage } from "./result-page-decoder.js";

type ListRequest = MessageInitShape<typeof ListResultsRequestSchema>;
type WatchRequest = MessageInitShape<typeof WatchResultsRequestSchema>;

/** ListResults and WatchResults, their answers read by {@link decodeResultPage}. */
export interface ResultPagesClient {
  listResults(request: ListRequest, options?: CallOptions): Promise<ResultPage>;
  watchResults(request: WatchRequest, options?: CallOptions): AsyncIterable<ResultPage>;
}

/** An answer decoded with the empty schema: every field unknown. */
interface Undecoded {
  $unknown?: UnknownField[];
}

interface UndecodedClient {
  listResults(request: ListRequest, options?: CallOptions): Promise<Undecoded>;
  watchResults(request: WatchRequest, options?: CallOptions): AsyncIterable<Undecoded>;
}

/**
 * AdminService's result methods over a binary transport, decoding pages by hand: the methods are
 * called with an empty output schema, so fromBinary only slices the answer into unknown fields
 * (one per Result) and {@link decodeResultPage} reads them. Same URLs, requests, interceptors and
 * errors as the typed client; only the answer's decoding differs. The transport must use the
 * binary format (a JSON answer would decode to an empty page).
 */
export function createResultPagesClient(transport: Transport): ResultPagesClient {
  const methods: DescMethod[] = [
    { ...AdminService.method.listResults, output: EmptySchema },
    { ...AdminService.method.watchResults, output: EmptySchema },
  ] as DescMethod[];
  const raw = createClient({ methods } as DescService, transport) as unknown as UndecodedClient;
  return {
    async listResults(request, options) {
      return decodeResultPage((await raw.listResults(request, options)).$unknown);
    },
    async *watchResults(request, options) {
      for await (const batch of raw.watchResults(request, options)) yield decodeResultPage(batch.$unknown);
    },
  };
}
