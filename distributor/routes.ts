import type { ConnectRouter } from "@connectrpc/connect";
import { DistributorService } from "../gen/disio/v1/distributor_service_pb.js";
import type { ServicePolicy } from "../server/index.js";
import { createDistributorService, type ClientPrincipal, type DistributorServiceDeps } from "./services/distributor-service.js";
import type { SessionTokens } from "./session-tokens.js";

/** Registers the distributor's services on a router. */
export function distributorRoutes(deps: DistributorServiceDeps): (router: ConnectRouter) => void {
  const impl = createDistributorService(deps);
  return (router) => {
    router.service(DistributorService, impl);
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
