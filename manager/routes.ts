import type { ConnectRouter } from "@connectrpc/connect";
import { AdminService } from "../gen/disio/v1/admin_service_pb.js";
import { ManagerService } from "../gen/disio/v1/manager_service_pb.js";
import { handDecodedRoute } from "../server/index.js";
import type { ManagerContext } from "./manager-context.js";
import { decodeManagerReportRequest } from "./mappers/report-request-decoder.js";
import { createAdminService } from "./services/admin-service.js";
import { createManagerService } from "./services/manager-service.js";

/** Registers the manager's services (AdminService, ManagerService) on a Connect router. */
export function managerRoutes(ctx: ManagerContext): (router: ConnectRouter) => void {
  return (router) => {
    router.service(AdminService, createAdminService(ctx));
    router.service(ManagerService, createManagerService(ctx));
  };
}

/**
 * The manager's routes for binary callers (ServerOptions.binaryRoutes): distributors' Reports
 * decoded by hand ({@link decodeManagerReportRequest}), then answered by the same implementation.
 */
export function managerBinaryRoutes(ctx: ManagerContext): (router: ConnectRouter) => void {
  const service = createManagerService(ctx);
  return (router) => handDecodedRoute(router, ManagerService.method.report, decodeManagerReportRequest, service.report);
}
