/**
 * The one-port server shared by the manager and the distributor: Connect, gRPC and gRPC-Web on a
 * single TCP port, with reflection, health, metrics, static files, CORS, auth and error mapping.
 */
export { startServer } from "./start-server.js";
export { principalKey } from "./principal-key.js";
export { remoteAddressKey } from "./remote-address-key.js";
export { usesJsonCodec } from "./json-codec.js";
export { handDecodedRoute } from "./hand-decoded-route.js";
export { compressionFastGzip } from "./fast-gzip.js";
export { RPC_CALLS_METRIC, RPC_DURATION_METRIC } from "./metrics-interceptor.js";
export type {
  Authenticate,
  Health,
  RunningServer,
  ServerOptions,
  ServicePolicy,
  StaticAsset,
  StaticRoute,
} from "./server-options.js";
