import { durationFromMs, durationMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import { ManagerService } from "../../gen/disio/v1/manager_service_pb.js";
import { InvalidArgumentError, UnauthenticatedError } from "../../core/errors.js";
import { distributorStatus } from "../../core/distributor-status.js";
import { VERSION } from "../../core/version.js";
import { principalKey, usesJsonCodec } from "../../server/index.js";
import type { DistributorPrincipal } from "../authenticators.js";
import { ProgramNotFoundError } from "../errors.js";
import type { ManagerContext } from "../manager-context.js";
import { toProtoPeer } from "../mappers/distributor-mapper.js";
import { encodeLeaseResponse } from "../mappers/lease-response-encoder.js";
import { isJsonCall } from "./is-json-call.js";
import { fromProtoClientSession, fromProtoTaskResult, toProtoTask } from "../mappers/task-mapper.js";
import { allProjects } from "../store/all-projects.js";
import type { DistributorRecord, ManagerStore, ReportedResult } from "../store/store.js";
import { recordResultsInChunks } from "./store-in-chunks.js";

const MAX_COPY_IDS = 100_000;
/** Most copy ids a reconciling Register may list (held copies plus buffered results). */
const MAX_HELD_COPY_IDS = 200_000;
/** Most copy assignments one Heartbeat may carry. */
const MAX_GIVEN_COPIES = 100_000;

/**
 * ManagerService: what distributors call to register, heartbeat, lease, renew, release and report.
 * The caller's identity comes from the distributor-token authenticator (`{ distributorId }`).
 */
export function createManagerService(ctx: ManagerContext): ServiceImpl<typeof ManagerService> {
  const { store, limits } = ctx;
  const log = ctx.log;

  const settings = () => ({
    heartbeatInterval: durationFromMs(limits.heartbeatIntervalMs),
    maxLeaseBatch: limits.maxLeaseBatch,
    maxReportBatch: limits.maxReportBatch,
    maxLeaseWait: durationFromMs(limits.maxLeaseWaitMs),
  });

  const peersOf = async (self: string) => {
    const now = ctx.now();
    return (await store.listDistributors())
      .filter((d) => d.id !== self && d.publicUrl !== "" && isOnline(d, now, limits.heartbeatIntervalMs))
      .map(toProtoPeer);
  };

  return {
    async getInfo() {
      return { version: VERSION, managerId: ctx.managerId, groupId: ctx.groupId, publicKey: ctx.signer.publicKey };
    },

    async register(req, call) {
      const { distributorId } = principal(call);
      if (req.publicUrl !== "" && !/^https?:\/\/[^\s]+$/i.test(req.publicUrl)) {
        throw new InvalidArgumentError("public_url", "must be an http or https URL");
      }
      await store.registerDistributor(
        distributorId,
        { publicUrl: req.publicUrl, region: req.region, capacity: req.capacity, version: req.version },
        ctx.now(),
      );
      let releasedCopies = 0;
      if (req.reconcile) {
        if (req.heldCopyIds.length > MAX_HELD_COPY_IDS) {
          throw new InvalidArgumentError("held_copy_ids", `at most ${MAX_HELD_COPY_IDS}; register without reconcile instead`);
        }
        releasedCopies = await store.releaseUnheldCopies(distributorId, req.heldCopyIds, ctx.now());
      }
      log.info(
        { distributorId, publicUrl: req.publicUrl, region: req.region, capacity: req.capacity, reconcile: req.reconcile, releasedCopies },
        "distributor registered",
      );
      return {
        releasedCopies,
        distributorId,
        groupId: ctx.groupId,
        managerId: ctx.managerId,
        publicKey: ctx.signer.publicKey,
        settings: settings(),
        peers: await peersOf(distributorId),
      };
    },

    async heartbeat(req, call) {
      const { distributorId } = principal(call);
      if (req.givenCopies.length > MAX_GIVEN_COPIES) {
        throw new InvalidArgumentError("given_copies", `at most ${MAX_GIVEN_COPIES} per heartbeat, got ${req.givenCopies.length}`);
      }
      const { finishedUnitIds } = await store.heartbeat(
        distributorId,
        { heldCopies: req.heldCopies, clients: req.clients, bufferedResults: req.bufferedResults, freeSlots: req.freeSlots },
        req.endedSessions.map(fromProtoClientSession),
        ctx.now(),
        limits.maxNoticesPerHeartbeat,
        req.givenCopies,
      );
      const distributor = await store.getDistributor(distributorId);
      // Only paused ones: copies of units that finished or expired are cancelled by notices.
      const paused = (await allProjects(store)).filter((p) => p.state === "paused").map((p) => p.id);
      return { drain: distributor.draining, cancelledUnitIds: finishedUnitIds, pausedProjectIds: paused, peers: await peersOf(distributorId) };
    },

    async lease(req, call) {
      const { distributorId } = principal(call);
      const max = Math.min(req.maxCopies === 0 ? limits.maxLeaseBatch : req.maxCopies, limits.maxLeaseBatch);
      const waitMs = req.wait ? Math.min(Math.max(0, durationMs(req.wait)), limits.maxLeaseWaitMs) : 0;
      const until = ctx.now() + waitMs;
      const signal = AbortSignal.any([call.signal, ctx.stopping]);
      for (;;) {
        if ((await store.getDistributor(distributorId)).draining) return { tasks: [] };
        const version = store.changes.version("unitsReady");
        const tasks = await store.leaseCopies(distributorId, max, ctx.now(), limits.maxLeaseInputBytes);
        if (tasks.length > 0) {
          ctx.metrics.unitsLeased(tasks.length);
          return usesJsonCodec(call.requestHeader) ? { tasks: tasks.map(toProtoTask) } : encodeLeaseResponse(tasks);
        }
        const left = until - ctx.now();
        if (left <= 0 || signal.aborted) return { tasks: [] };
        await store.changes.wait("unitsReady", left, signal, version);
        // A caller that gave up (or a manager closing) must not be leased copies nobody will read.
        if (signal.aborted) return { tasks: [] };
      }
    },

    async renew(req, call) {
      const { distributorId } = principal(call);
      checkCopyIds(req.copyIds.length);
      const { renewed, lost } = await store.renewCopies(distributorId, req.copyIds, ctx.now());
      return { renewed: renewed.map((r) => ({ copyId: r.copyId, deadline: timestampFromMs(r.deadlineMs) })), lostCopyIds: lost };
    },

    async release(req, call) {
      const { distributorId } = principal(call);
      checkCopyIds(req.copyIds.length);
      const released = await store.releaseCopies(distributorId, req.copyIds, ctx.now());
      return { released };
    },

    async report(req, call) {
      const { distributorId } = principal(call);
      if (req.results.length > limits.maxReportBatch) {
        throw new InvalidArgumentError("results", `at most ${limits.maxReportBatch} results per call, got ${req.results.length}`);
      }
      const results = req.results.map(fromProtoTaskResult);
      await adoptExtraCopies(store, distributorId, results, ctx.now());
      const outcome = await recordResultsInChunks(store, distributorId, results, () => ctx.now());
      ctx.metrics.resultsReported(outcome);
      if (outcome.refused > 0) {
        ctx.log.warn({ distributorId, refused: outcome.refused, results: req.results.length }, "results for copies leased to another distributor refused");
      }
      if (outcome.unitsToValidate > 0) ctx.validations.kick();
      return { accepted: outcome.accepted, duplicates: outcome.duplicates, unknown: outcome.unknown, refused: outcome.refused };
    },

    async getProgram(req) {
      const program = await store.getProgram(req.hash);
      if (program === undefined) throw new ProgramNotFoundError(req.hash);
      // Signed now with the key in force, not the one stored at creation: after a key rotation the
      // stored programs verify under the key distributors announce.
      return { program: { ...program, signature: ctx.signer.sign(program.hash) } };
    },
  };
}

function principal(call: HandlerContext): DistributorPrincipal {
  const value = call.values.get(principalKey) as Partial<DistributorPrincipal> | undefined;
  if (typeof value?.distributorId !== "string") throw new UnauthenticatedError("no distributor identity on this call");
  return { distributorId: value.distributorId };
}

/**
 * Opens copies for the extra copies among `results` (made by the distributor while no manager
 * answered, see ManagerStore.adoptExtraCopies) and readdresses their results to those copies; the
 * results of extras not adopted keep the distributor's id for them, unknown here, and are dropped.
 */
async function adoptExtraCopies(store: ManagerStore, distributorId: string, results: ReportedResult[], nowMs: number): Promise<void> {
  const extras = results.filter((r) => r.extraOfCopyId !== undefined);
  if (extras.length === 0) return;
  const adopted = await store.adoptExtraCopies(distributorId, extras.map((r) => ({ extraCopyId: r.copyId, extraOfCopyId: r.extraOfCopyId! })), nowMs);
  for (const result of extras) result.copyId = adopted.get(result.copyId) ?? result.copyId;
}

function checkCopyIds(count: number): void {
  if (count > MAX_COPY_IDS) throw new InvalidArgumentError("copy_ids", `at most ${MAX_COPY_IDS} per call`);
}

function isOnline(d: DistributorRecord, nowMs: number, heartbeatIntervalMs: number): boolean {
  return distributorStatus({ ...d, registered: d.registeredAtMs !== undefined }, nowMs, heartbeatIntervalMs) === "online";
}
