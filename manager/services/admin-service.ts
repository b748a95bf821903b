import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { durationMs, timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  AdminService,
  WatchResultsResponseSchema,
  type WatchResultsResponse,
  type WatchStatsResponse,
  WatchStatsResponseSchema,
} from "../../gen/disio/v1/admin_service_pb.js";
import { UnitState } from "../../gen/disio/v1/common_pb.js";
import { InvalidArgumentError } from "../../core/errors.js";
import { applyProjectUpdate, resolveProjectSettings, validateProgramSource } from "../../core/project-settings.js";
import { isFinalUnitState } from "../../core/unit-transitions.js";
import { VERSION } from "../../core/version.js";
import { gridStats } from "../grid-stats.js";
import type { ManagerContext } from "../manager-context.js";
import { toProtoDistributor } from "../mappers/distributor-mapper.js";
import { fromProtoUnitState } from "../mappers/enums.js";
import { fromCreateProjectRequest, fromUpdateProjectRequest, toProtoProject } from "../mappers/project-mapper.js";
import { encodeAddUnitsResponse } from "../mappers/add-units-response-encoder.js";
import { toProtoClient, toProtoResult, toProtoUnit } from "../mappers/unit-mapper.js";
import { hashOutput, sha256Hex } from "../output-hash.js";
import { checkProgram } from "../program-check.js";
import type { NewUnit, ResultRecord } from "../store/store.js";
import { encodeListResultsResponse, encodeWatchResultsResponse } from "../mappers/results-response-encoder.js";
import { isJsonCall } from "./is-json-call.js";

const MIN_WATCH_STATS_INTERVAL_MS = 200;
const WATCH_RESULTS_BATCH = 1_000;
/** Most input and output bytes in one ListUnits or ListResults page or WatchResults batch (one always fits). */
const PAGE_BYTES = 8 * 1024 * 1024;
const utf8 = new TextDecoder("utf-8", { fatal: true });
/** Longest AddUnits request id. */
const MAX_REQUEST_ID_LENGTH = 128;

/**
 * AdminService: projects, units, results, statistics and distributor identities, for the panel,
 * the CLI and backends. Each handler validates, calls the store, maps the answer.
 */
export function createAdminService(ctx: ManagerContext): ServiceImpl<typeof AdminService> {
  const { store, limits } = ctx;
  return {
    async getInfo() {
      return {
        version: VERSION,
        managerId: ctx.managerId,
        groupId: ctx.groupId,
        publicKey: ctx.signer.publicKey,
        publicKeyBase64: ctx.signer.publicKeyBase64,
        store: store.kind,
        serverTime: timestampFromMs(ctx.now()),
      };
    },

    async createProject(req) {
      const settings = resolveProjectSettings(fromCreateProjectRequest(req));
      validateProgramSource(req.programSource);
      await checkProgram(req.programSource);
      const hash = sha256Hex(req.programSource);
      await store.putProgram({ hash, source: req.programSource, signature: ctx.signer.sign(hash) });
      const hasValidator = await ctx.validators.hasValidator(req.programSource).catch((error: unknown) => {
        // Only clients run the program; one the manager cannot load (it may need a browser) just has no validator.
        ctx.log.warn({ programHash: hash, err: error instanceof Error ? error.message : String(error) }, "program does not load on the manager: no validator");
        return false;
      });
      const project = await store.createProject({ settings, programHash: hash, hasValidator, paused: req.paused, nowMs: ctx.now() });
      ctx.log.info({ projectId: project.id, name: project.name, programHash: hash, hasValidator }, "project created");
      return { project: toProtoProject(project) };
    },

    async getProject(req) {
      return { project: toProtoProject(await store.getProject(req.id)) };
    },

    async listProjects(req) {
      const page = await store.listProjects({ limit: pageSize(req.pageSize, 100, 1000), pageToken: req.pageToken });
      return { projects: page.projects.map(toProtoProject), nextPageToken: page.nextPageToken };
    },

    async updateProject(req) {
      const { update, state } = fromUpdateProjectRequest(req);
      const current = await store.getProject(req.id);
      const settings = update === undefined ? undefined : applyProjectUpdate(current, update);
      const project = await store.updateProject(req.id, { ...(settings && { settings }), ...(state && { state }) }, ctx.now());
      ctx.log.info({ projectId: project.id, state: project.state }, "project updated");
      return { project: toProtoProject(project) };
    },

    async deleteProject(req) {
      const deletedUnits = await store.deleteProject(req.id);
      ctx.log.info({ projectId: req.id, deletedUnits }, "project deleted");
      return { deletedUnits: BigInt(deletedUnits) };
    },

    async addUnits(req, call) {
      if (req.units.length > limits.maxUnitsPerCall) {
        throw new InvalidArgumentError("units", `at most ${limits.maxUnitsPerCall} units per call, got ${req.units.length}`);
      }
      const project = await store.getProject(req.projectId);
      const units: NewUnit[] = req.units.map((unit, i) => {
        if (unit.input.byteLength > limits.maxInputBytes) {
          throw new InvalidArgumentError(`units[${i}].input`, `${unit.input.byteLength} bytes, more than ${limits.maxInputBytes}`);
        }
        if (project.inputEncoding === "json") assertJson(unit.input, `units[${i}].input`);
        if (unit.expectedOutput === undefined) return { input: unit.input, priority: unit.priority };
        // A canary: its known answer is kept as the hash results are compared by.
        const expected = hashOutput(unit.expectedOutput, project.outputEncoding);
        if (!expected.valid) throw new InvalidArgumentError(`units[${i}].expected_output`, "not valid JSON for a JSON project");
        return { input: unit.input, priority: unit.priority, expectedHash: expected.hash };
      });
      if (req.requestId.length > MAX_REQUEST_ID_LENGTH) {
        throw new InvalidArgumentError("request_id", `at most ${MAX_REQUEST_ID_LENGTH} characters, got ${req.requestId.length}`);
      }
      const { unitIds, alreadyStored } =
        req.requestId === ""
          ? { unitIds: await store.addUnits(req.projectId, units, ctx.now()), alreadyStored: false }
          : await store.addUnitsOnce(req.projectId, req.requestId, units, ctx.now());
      if (alreadyStored) {
        ctx.log.info({ projectId: req.projectId, requestId: req.requestId, units: unitIds.length }, "units already stored");
      } else {
        ctx.log.info({ projectId: req.projectId, units: unitIds.length }, "units added");
      }
      return isJsonCall(call) ? { unitIds, alreadyStored } : encodeAddUnitsResponse(unitIds, alreadyStored);
    },

    async listUnits(req) {
      const state = fromProtoUnitState(req.state, "state");
      const page = await store.listUnits(req.projectId, {
        ...(state && { state }),
        limit: pageSize(req.pageSize, 100, 10_000),
        pageToken: req.pageToken,
        maxBytes: PAGE_BYTES,
      });
      return { units: page.units.map((u) => toProtoUnit(u)), nextPageToken: page.nextPageToken };
    },

    async getUnit(req) {
      return { unit: toProtoUnit(await store.getUnit(req.id)) };
    },

    async cancelUnits(req) {
      const cancelled = await store.cancelUnits(req.projectId, req.unitIds.length > 0 ? req.unitIds : undefined, ctx.now());
      ctx.log.info({ projectId: req.projectId, cancelled }, "units cancelled");
      return { cancelled: BigInt(cancelled) };
    },

    async requeueUnits(req) {
      let requeued: number;
      if (req.unitIds.length > 0) {
        requeued = await store.requeueUnits(req.projectId, { unitIds: req.unitIds }, ctx.now());
      } else {
        const state = fromProtoUnitState(req.state === UnitState.UNSPECIFIED ? UnitState.FAILED : req.state, "state")!;
        if (!isFinalUnitState(state)) throw new InvalidArgumentError("state", "only failed, expired, cancelled or done units can be requeued");
        requeued = await store.requeueUnits(req.projectId, { state }, ctx.now());
      }
      ctx.log.info({ projectId: req.projectId, requeued }, "units requeued");
      return { requeued: BigInt(requeued) };
    },

    async listResults(req, call) {
      const limit = pageSize(req.pageSize, 1000, 10_000);
      const cursor = req.latest ? await store.latestResultsCursor(req.projectId, limit) : req.cursor;
      const page = await store.listResults(req.projectId, cursor, limit, PAGE_BYTES);
      if (!isJsonCall(call)) return encodeListResultsResponse(page.results, page.nextCursor);
      return { results: page.results.map(toProtoResult), nextCursor: page.nextCursor };
    },

    async *watchResults(req, call): AsyncIterable<WatchResultsResponse> {
      const batch = isJsonCall(call)
        ? (results: ResultRecord[], cursor: string, projectDone: boolean) => create(WatchResultsResponseSchema, { results: results.map(toProtoResult), cursor, projectDone })
        : encodeWatchResultsResponse;
      let cursor = req.cursor;
      await store.getProject(req.projectId);
      let lastSent = ctx.now();
      const signal = AbortSignal.any([call.signal, ctx.stopping]);
      while (!signal.aborted) {
        // Read the counts before the page: a unit finishing in between shows in the next page.
        const version = store.changes.version("unitsFinished");
        const project = await store.getProject(req.projectId);
        const page = await store.listResults(req.projectId, cursor, WATCH_RESULTS_BATCH, PAGE_BYTES);
        const open = project.counts.queued + project.counts.running;
        if (page.results.length > 0) {
          cursor = page.nextCursor;
          const done = req.untilDone && open === 0 && !page.more;
          yield batch(page.results, cursor, done);
          lastSent = ctx.now();
          if (done) return;
          if (page.more) continue;
        } else if (req.untilDone && open === 0) {
          yield create(WatchResultsResponseSchema, { cursor, projectDone: true });
          return;
        } else if (ctx.now() - lastSent >= limits.watchKeepAliveMs) {
          yield create(WatchResultsResponseSchema, { cursor });
          lastSent = ctx.now();
        }
        await store.changes.wait("unitsFinished", Math.min(1_000, limits.watchKeepAliveMs), signal, version);
      }
    },

    async getStats(req) {
      return gridStats(ctx, req.projectId);
    },

    async *watchStats(req, call): AsyncIterable<WatchStatsResponse> {
      const intervalMs = req.interval ? Math.max(MIN_WATCH_STATS_INTERVAL_MS, durationMs(req.interval)) : 1_000;
      if (req.projectId !== "") await store.getProject(req.projectId);
      const signal = AbortSignal.any([call.signal, ctx.stopping]);
      while (!signal.aborted) {
        yield create(WatchStatsResponseSchema, { stats: await gridStats(ctx, req.projectId) });
        await sleep(intervalMs, signal);
      }
    },

    async listDistributors() {
      const now = ctx.now();
      const distributors = await store.listDistributors();
      return { distributors: distributors.map((d) => toProtoDistributor(d, now, limits.heartbeatIntervalMs)) };
    },

    async createDistributor(req) {
      const name = req.name.trim();
      if (name === "") throw new InvalidArgumentError("name", "a name is required");
      const token = randomBytes(32).toString("base64url");
      const distributor = await store.createDistributor({ name, region: req.region.trim(), tokenHash: sha256Hex(token) }, ctx.now());
      ctx.log.info({ distributorId: distributor.id, name }, "distributor created");
      return { distributor: toProtoDistributor(distributor, ctx.now(), limits.heartbeatIntervalMs), token };
    },

    async revokeDistributor(req) {
      const requeuedCopies = await store.revokeDistributor(req.id, ctx.now());
      ctx.log.info({ distributorId: req.id, requeuedCopies }, "distributor revoked");
      return { requeuedCopies: BigInt(requeuedCopies) };
    },

    async listClients(req) {
      const clients = await store.listClients(pageSize(req.pageSize, 100, 1_000));
      return { clients: clients.map(toProtoClient) };
    },

    async drainDistributor(req) {
      const distributor = await store.drainDistributor(req.id);
      ctx.log.info({ distributorId: req.id }, "distributor draining");
      return { distributor: toProtoDistributor(distributor, ctx.now(), limits.heartbeatIntervalMs) };
    },
  };
}

function pageSize(requested: number, fallback: number, max: number): number {
  return requested === 0 ? fallback : Math.min(requested, max);
}

function assertJson(bytes: Uint8Array, field: string): void {
  try {
    JSON.parse(utf8.decode(bytes));
  } catch (error) {
    throw new InvalidArgumentError(field, "not valid UTF-8 JSON", { cause: error });
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
