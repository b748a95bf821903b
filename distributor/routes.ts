import type { ConnectRouter } from "@connectrpc/connect";
import { DistributorService } from "../gen/disio/v1/distributor_service_pb.js";
import { handDecodedRoute, type ServicePolicy } from "../server/index.js";
import { decodeClientReportRequest } from "./report-request-decoder.js";
import { createDistributorService, type ClientPrincipal, type DistributorServiceDeps } from "./services/distributor-service.js";
import type { SessionTokens } from "./session-tokens.js";

/**
 * Registers the distributor's services on a router (`routes`), and for binary callers
 * (`binaryRoutes`, see ServerOptions) Report with its request decoded by hand
 * ({@link decodeClientReportRequest}), answered by the same implementation.
 */
export function distributorRoutes(deps: DistributorServiceDeps): { routes: (router: ConnectRouter) => void; binaryRoutes: (router: ConnectRouter) => void } {
  const impl = createDistributorService(deps);
  return {
    routes: (router) => {
      router.service(DistributorService, impl);
    },
    binaryRoutes: (router) => handDecodedRoute(router, DistributorService.method.report, decodeClientReportRequest, impl.report),
  };
}

/**
 * The distributor's policy on the shared port: CORS for browsers, Join/GetInfo/GetProgram anonymous,
 * Work and Report authenticated by session token (principal `{ clientId }`).
 */
export function distributorPolicies(tokens: SessionTokens): ServicePolicy[] {
  return [
    {
      service: DistributorService.typeName,
      cors: true,
      anonymousMethods: ["Join", "GetInfo", "GetProgram"],
      authenticate: ({ token }): ClientPrincipal => ({ clientId: tokens.verify(token) }),
    },
  ];
}
