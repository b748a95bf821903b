import { createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AdminService } from "../../gen/disio/v1/admin_service_pb.js";

/** An AdminService client speaking binary protobuf over HTTP/1.1, as a backend using the API would. */
export function binaryAdminClient(baseUrl: string, token: string): Client<typeof AdminService> {
  const bearer: Interceptor = (next) => (req) => {
    req.header.set("Authorization", `Bearer ${token}`);
    return next(req);
  };
  const transport = createConnectTransport({ baseUrl, httpVersion: "1.1", useBinaryFormat: true, interceptors: [bearer], readMaxBytes: 256 * 1024 * 1024 });
  return createClient(AdminService, transport);
}
