/**
 * The distributor: the grid's edge. Leases copies from managers into a local store, streams them to
 * clients with credit, stores their results durably and sends them back in compressed batches.
 */
export { startDistributor } from "./start-distributor.js";
export type { DistributorState, RunningDistributor } from "./start-distributor.js";
export { resolveDistributorOptions } from "./distributor-options.js";
export type { DistributorOptions, ResolvedDistributorOptions } from "./distributor-options.js";
export type { DistributorStore } from "./store/store.js";
export { parseStoreUrl } from "./store/store-url.js";
export type { StoreLocation } from "./store/store-url.js";
