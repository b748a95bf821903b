import type { ConnectRouter } from "@connectrpc/connect";
import { AdminService } from "../gen/disio/v1/admin_service_pb.js";
import { ManagerService } from "../gen/disio/v1/manager_service_pb.js";
import type { ManagerContext } from "./manager-context.js";
import { createAdminService } from "./services/admin-service.js";
import { createManagerService } from "./services/manager-service.js";

/** Registers the manager's services (AdminService, ManagerService) on a Connect router. */
export function managerRoutes(ctx: ManagerContext): (router: ConnectRouter) => void {
  return (router) => {
    router.service(AdminService, createAdminService(ctx));
    router.service(ManagerService, createManagerService(ctx));
  };
}
