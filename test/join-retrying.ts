import { Code, ConnectError } from "@connectrpc/connect";
import type { JoinResponse } from "../gen/disio/v1/distributor_service_pb.js";
import type { DistributorClient } from "../core/client/index.js";

/**
 * Joins as a Node client, retrying (as real clients do) while the distributor answers Unavailable:
 * a distributor refuses joins until it has registered with its manager and knows the program key.
 */
export async function joinRetrying(client: DistributorClient, timeoutMs = 10_000): Promise<JoinResponse> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await client.join({ platform: "node", cores: 1 });
    } catch (error) {
      if (ConnectError.from(error).code !== Code.Unavailable || Date.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
