import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AdminService } from "../../gen/disio/v1/admin_service_pb.js";
import { createResultPagesClient, type ResultPagesClient } from "../../sdk/result-pages-client.js";

/** An AdminService client speaking binary protobuf over HTTP/1.1, as a backend using the API would. */
export function binaryAdminClient(baseUrl: string, token: string): Client<typeof AdminService> {
  return binaryAdminClients(baseUrl, token).admin;
}

/**
 * The same client, and the SDK's result-pages client on the same transport (WatchResults decoded
 * by hand, as the SDK's `Job.results` reads them).
 */
export function binaryAdminClients(baseUrl: string, token: string): { admin: Client<typeof AdminService>; resultPages: ResultPagesClient } {
  const bearer: Interceptor = (next) => (req) => {
    req.header.set("Authorization", `Bearer ${token}`);
    return next(req);
  };
  const transport = createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true, interceptors: [bearer], readMaxBytes: 256 * 1024 * 1024 });
  return { admin: createClient(AdminService, transport), resultPages: createResultPagesClient(transport) };
}
