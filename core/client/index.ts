/**
 * The client handler core shared by `disio worker` and the browser client: the handler, the
 * unit-processor protocol it drives, and its pure decisions.
 */
export { ClientHandler } from "./client-handler.js";
export type { ClientHandlerDeps, FarewellSend } from "./client-handler-deps.js";
export { farewellReports } from "./farewell-reports.js";
export type { FarewellLimits, FarewellRequest } from "./farewell-reports.js";
export type { DistributorClient } from "./join-distributor.js";
export type { ClientHandlerEvents, ClientHandlerState, ClientHandlerStats } from "./client-handler-events.js";
export { resolveClientHandlerOptions, MAX_WORK_SLOTS } from "./client-handler-options.js";
export type { ClientHandlerOptions, ResolvedClientHandlerOptions } from "./client-handler-options.js";
export { TooManyRedirectsError, TrustKeyMismatchError } from "./errors.js";
export { inMemoryKeyMemory } from "./key-memory.js";
export type { KeyMemory, TrustedKey } from "./key-memory.js";
export { trustDecision } from "./trust-decision.js";
export type { TrustContact, TrustDecision } from "./trust-decision.js";
export type { RunnableTask, UnitEncoding, UnitErrorKind, UnitOutcome, UnitProcessor, UnitResult } from "./unit-processor.js";
export { reportFlushDelay } from "./report-flush.js";
export { ReportQueue } from "./report-queue.js";
export type { ReportQueueDeps, ReportQueuePolicy, ReportSettlement } from "./report-queue.js";
export { nextWorkSlots } from "./work-slots.js";
export { reconnectPlan } from "./reconnect-plan.js";
