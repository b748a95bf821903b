import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { compressionGzip, createConnectTransport } from "@connectrpc/connect-node";
import { AdminService, CreateProjectRequestSchema, type Project } from "../gen/disio/v1/admin_service_pb.js";
import { Encoding, UnitState } from "../gen/disio/v1/common_pb.js";
import { explainCallError, ProjectLookupError } from "./errors.js";
import { Job, type AddOptions } from "./job.js";
import { checkManagerUrl } from "./manager-url.js";
import { createResultPagesClient, type ResultPagesClient } from "./result-pages-client.js";
import { loadProgramSource, type ProgramInput } from "./program-source.js";

/** Options of {@link Grid}. */
export interface GridOptions {
  /** The manager's URL. Default `http://127.0.0.1:7100`. */
  manager?: string;
  /** The admin token (`disio manager` prints where it keeps it). Required. */
  token: string;
  /** Largest response message accepted, bytes. Default 256 MiB. */
  readMaxBytes?: number;
  /**
   * Ask the manager to gzip its answers. Default false: gzip cost the manager and the client more
   * CPU per results page than sending it did over any link faster than about 100 Mbit/s (a page of
   * 10,000 results is 1–3 MB); turn it on for a manager behind a slow link.
   */
  compressResponses?: boolean;
}

/** What a project is created with ({@link Grid.createProject}). Durations in ms. */
export interface ProjectOptions {
  /** A name, unique on the manager. Required. */
  name: string;
  /**
   * The program: a path to a `.js` file (sent as is), a `.ts` file or a folder (bundled into one ES
   * module with esbuild), or ES module source text (`{ source }`, or a string holding `export`).
   */
  program: ProgramInput;
  /** Copies of each unit to compute. Default 1. */
  replication?: number;
  /** Matching copies needed. Default 1. */
  quorum?: number;
  /** Attempts before a unit fails. Default replication + 2. */
  maxAttempts?: number;
  /** How long a copy may stay out, ms. Default 60,000. */
  leaseTimeoutMs?: number;
  /** When the project stops leasing and its open units expire. Default none. */
  deadline?: Date;
  /** Higher is leased first. Default 0. */
  priority?: number;
  /** How inputs travel: `"json"` (default) or `"bytes"` (Uint8Array). */
  inputEncoding?: "json" | "bytes";
  /** How outputs travel: `"json"` (default) or `"bytes"`. */
  outputEncoding?: "json" | "bytes";
  /** Create it paused. Default false. */
  paused?: boolean;
  /**
   * Adaptive replication: each unit goes out as one copy first, and a trusted client's result may
   * stand alone (only meaningful with quorum > 1). Default false.
   */
  adaptiveReplication?: boolean;
  /**
   * The share of leased copies (0 to 1) that bring a canary along: a unit with a known answer
   * added by {@link Job.addCanaries}, that catches clients answering wrong. Default 0 (none).
   */
  canaryRate?: number;
}

/** Options of {@link Grid.map}: project settings (name optional) and add options. */
export interface MapOptions extends Omit<ProjectOptions, "name" | "program">, Pick<AddOptions, "batchSize"> {
  /** The project's name. Default `map-<time>-<random>`. */
  name?: string;
  /** Keep the project (units and results) once the outputs are read. Default false: it is deleted. */
  keep?: boolean;
}

/** Thrown by {@link Grid.map} when some units failed: the outputs that did arrive and the failures. */
export class MapError extends Error {
  constructor(
    /** Outputs in input order; `undefined` where the unit failed. */
    readonly outputs: unknown[],
    /** The failed inputs' indexes with the last error of each. */
    readonly failures: { index: number; unit: string; error: string }[],
  ) {
    const first = failures[0];
    super(`${failures.length} of ${outputs.length} units failed${first ? `; the first (input ${first.index}): ${first.error}` : ""}`);
    this.name = "MapError";
  }
}

const ENCODINGS = { json: Encoding.JSON, bytes: Encoding.BYTES } as const;
const PROJECT_ID = /^p[0-9a-z]{1,12}$/;

/**
 * A dis.io grid seen from a project owner's code, through the manager's AdminService:
 *
 * ```ts
 * const grid = new Grid({ manager: "http://127.0.0.1:7100", token });
 * const job = await grid.createProject({ name: "squares", program: "./work.ts" });
 * await job.add(inputs);
 * for await (const { input, output } of job.results()) console.log(input, output);
 * // or, in one call, outputs in input order:
 * const squares = await grid.map([1, 2, 3], "./work.js");
 * ```
 *
 * `admin` is the raw AdminService client for everything else (distributors, stats, units).
 */
export class Grid {
  /** The AdminService client, bearer token attached; transport errors explained in words. */
  readonly admin: Client<typeof AdminService>;
  /** The manager's URL as checked. */
  readonly url: string;
  readonly #explain: (error: unknown) => unknown;
  readonly #resultPages: ResultPagesClient;

  constructor(options: GridOptions) {
    if (!options.token) throw new TypeError("token is required: the manager's admin token");
    this.url = checkManagerUrl(options.manager ?? "http://127.0.0.1:7100");
    const url = this.url;
    this.#explain = (error) => explainCallError(error, url);
    const token = options.token;
    const auth: Interceptor = (next) => async (req) => {
      req.header.set("Authorization", `Bearer ${token}`);
      try {
        return await next(req);
      } catch (error) {
        throw explainCallError(error, url);
      }
    };
    const transport: Transport = createConnectTransport({
      baseUrl: url,
      httpVersion: "1.1",
      useBinaryFormat: true,
      acceptCompression: options.compressResponses ? [compressionGzip] : [],
      interceptors: [auth],
      readMaxBytes: options.readMaxBytes ?? 256 * 1024 * 1024,
      writeMaxBytes: 64 * 1024 * 1024,
    });
    this.admin = createClient(AdminService, transport);
    this.#resultPages = createResultPagesClient(transport);
  }

  /** Creates a project (the program loaded, bundled when needed, and checked by the manager) and returns its {@link Job}. */
  async createProject(options: ProjectOptions): Promise<Job> {
    const programSource = await loadProgramSource(options.program);
    const { project } = await this.admin.createProject(
      create(CreateProjectRequestSchema, {
        name: options.name,
        programSource,
        replication: options.replication,
        quorum: options.quorum,
        maxAttempts: options.maxAttempts,
        leaseTimeout: options.leaseTimeoutMs === undefined ? undefined : durationFromMs(options.leaseTimeoutMs),
        deadline: options.deadline && timestampFromDate(options.deadline),
        priority: options.priority ?? 0,
        inputEncoding: ENCODINGS[options.inputEncoding ?? "json"],
        outputEncoding: ENCODINGS[options.outputEncoding ?? "json"],
        paused: options.paused ?? false,
        adaptiveReplication: options.adaptiveReplication ?? false,
        canaryRate: options.canaryRate ?? 0,
      }),
    );
    return new Job({ admin: this.admin, resultPages: this.#resultPages }, project!, this.#explain);
  }

  /** The {@link Job} of an existing project, by id or by name. */
  async job(idOrName: string): Promise<Job> {
    return new Job({ admin: this.admin, resultPages: this.#resultPages }, await this.project(idOrName), this.#explain);
  }

  /**
   * A project by id, or by name (names are unique per manager). Throws ProjectLookupError when
   * neither matches.
   */
  async project(idOrName: string): Promise<Project> {
    if (PROJECT_ID.test(idOrName)) {
      try {
        return (await this.admin.getProject({ id: idOrName })).project!;
      } catch (error) {
        if (ConnectError.from(error).code !== Code.NotFound) throw error;
      }
    }
    for await (const project of this.projects()) if (project.name === idOrName) return project;
    throw new ProjectLookupError(`no project has the id or name ${JSON.stringify(idOrName)} (disio project list shows them)`);
  }

  /** Every project, newest first. */
  async *projects(): AsyncGenerator<Project> {
    let pageToken = "";
    do {
      const page = await this.admin.listProjects({ pageSize: 1000, pageToken });
      yield* page.projects;
      pageToken = page.nextPageToken;
    } while (pageToken);
  }

  /**
   * Computes `program` over every input on the grid and returns the outputs in input order, like
   * `Promise.all(inputs.map(work))`: creates a project, adds the inputs, reads every result, and
   * deletes the project (unless `keep`). Throws {@link MapError} when units failed.
   */
  async map<I, O = unknown>(inputs: Iterable<I> | AsyncIterable<I>, program: ProgramInput, options: MapOptions = {}): Promise<O[]> {
    const name = options.name ?? `map-${new Date().toISOString().replace(/[:.]/g, "-")}-${Math.random().toString(36).slice(2, 8)}`;
    const job = await this.createProject({ ...options, name, program });
    const indexOf = new Map<string, number>();
    let count = 0;
    try {
      await job.add(inputs, {
        batchSize: options.batchSize,
        onBatch: ({ unitIds, firstIndex }) => {
          unitIds.forEach((id, k) => indexOf.set(id, firstIndex + k));
          count = Math.max(count, firstIndex + unitIds.length);
        },
      });
      const outputs = new Array<O>(count);
      for await (const result of job.results<I, O>()) outputs[indexOf.get(result.unit)!] = result.output;
      const failures: MapError["failures"] = [];
      if ((await job.refresh()).counts!.done < BigInt(count)) {
        for await (const unit of job.units()) {
          if (unit.state !== UnitState.DONE) failures.push({ index: indexOf.get(unit.id)!, unit: unit.id, error: unit.error || UnitState[unit.state].toLowerCase() });
        }
        throw new MapError(outputs, failures);
      }
      return outputs;
    } finally {
      if (!options.keep) await job.delete().catch(() => undefined);
    }
  }
}
