import type { Client } from "@connectrpc/connect";
import type { AdminService, Result } from "../gen/disio/v1/admin_service_pb.js";

/**
 * Every result of a project after `cursor` (empty: from the start), in finishing order, read with
 * ListResults in pages of 10,000. Ends at the first empty page.
 */
export async function* listAllResults(admin: Client<typeof AdminService>, projectId: string, cursor = ""): AsyncGenerator<Result> {
  for (;;) {
    const page = await admin.listResults({ projectId, cursor, pageSize: 10_000 });
    yield* page.results;
    if (page.results.length === 0 || page.nextCursor === cursor) return;
    cursor = page.nextCursor;
  }
}
