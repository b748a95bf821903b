import type { Ed25519Verify } from "../program-signature.js";
import type { FarewellRequest } from "./farewell-reports.js";
import type { DistributorClient } from "./join-distributor.js";
import type { KeyMemory } from "./key-memory.js";
import type { UnitProcessor } from "./unit-processor.js";

/** Side effects of a `ClientHandler`: how to reach a distributor, and what runs the units. */
export interface ClientHandlerDeps {
  /** Makes a client for a distributor base URL (called again for each redirect). */
  connect(baseUrl: string): DistributorClient;
  /** Runs the tasks. */
  processor: UnitProcessor;
  /**
   * Where manager keys trusted on first use are remembered, per distributor URL. Default
   * `inMemoryKeyMemory`: a key change is refused for as long as this handler lives.
   */
  keys?: KeyMemory;
  /** Monotonic clock in ms. Default `performance.now`. */
  now?: () => number;
  /** Ed25519 check of program signatures. Default WebCrypto (browsers without it pass a library's). */
  verify?: Ed25519Verify;
}

/**
 * Sends a farewell's Report requests to the distributor the session belongs to, with its session
 * headers. Called synchronously by `ClientHandler.suspend`: the first request must be on its way
 * before this returns (it may be the page's last act, e.g. a `fetch` with `keepalive`).
 */
export type FarewellSend = (target: { url: string; headers: Readonly<Record<string, string>> }, requests: readonly FarewellRequest[]) => Promise<void>;
