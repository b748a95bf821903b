import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { execFileSync } from "node:child_process";
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import { createServer, type Http2Server } from "node:http2";
import { createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { expect } from "vitest";
import { Encoding, ProgramSchema, TaskSchema, type Task, type TaskResult } from "../gen/disio/v1/common_pb.js";
import { DistributorService } from "../gen/disio/v1/distributor_service_pb.js";
import { PROGRAM_SIGNATURE_PREFIX } from "../core/program-signature.js";

/**
 * Test doubles for `disio worker` tests (client-node/*.test.ts): Ed25519 keys and signed programs,
 * a fake remote distributor over h2c, and the build of the unit-runner entry the worker forks.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Unit runners are compiled JS (see unit-runner-entry-path.ts): rebuilds dist when a source is newer.
 * Call from `beforeAll` with a long timeout.
 */
export function buildRunnerIfStale(): void {
  const entry = join(root, "dist", "client-node", "unit-runner-entry.js");
  const builtAt = safeMtime(entry);
  const sources = [
    ...readdirSync(join(root, "client-node")).map((name) => join(root, "client-node", name)),
    join(root, "core", "client", "unit-processor.ts"),
  ].filter((path) => path.endsWith(".ts") && !path.endsWith(".test.ts"));
  if (sources.some((path) => safeMtime(path) > builtAt)) {
    try {
      execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: root, stdio: "ignore" });
    } catch {
      // Type errors elsewhere in the tree do not stop tsc from emitting our files.
    }
  }
  expect(safeMtime(entry)).toBeGreaterThan(0);
}

function safeMtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/** An Ed25519 key pair: the raw public key and the private key object. */
export interface Keys {
  publicKey: Uint8Array;
  privateKey: KeyObject;
}

/** A fresh Ed25519 key pair. */
export function makeKeys(): Keys {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const jwk = publicKey.export({ format: "jwk" });
  return { publicKey: new Uint8Array(Buffer.from(jwk.x!, "base64url")), privateKey };
}

/** A program as GetProgram serves it, signed by `keys` the way a manager signs. */
export function signedProgram(source: string, keys: Keys) {
  const hash = createHash("sha256").update(source, "utf8").digest("hex");
  const signature = new Uint8Array(sign(null, Buffer.from(PROGRAM_SIGNATURE_PREFIX + hash, "utf8"), keys.privateKey));
  return create(ProgramSchema, { hash, source, signature });
}

/**
 * A test double of a remote distributor on 127.0.0.1:0 over h2c: a task queue, slot credit, recorded
 * reports, and counts of Join, Work and GetProgram calls. It announces whatever key and group it is given.
 */
export async function startFakeDistributor(options: { announcedKey: Uint8Array; groupId?: string; programs: ReturnType<typeof signedProgram>[]; maxRunTimeMs?: number }) {
  const state = { queue: [] as Task[], given: 0, held: 0, reportCalls: [] as TaskResult[][], joins: 0, workStreams: 0, programFetches: 0 };
  const programs = new Map(options.programs.map((program) => [program.hash, program]));
  const handler = connectNodeAdapter({
    routes: (router) =>
      router.service(DistributorService, {
        getInfo: () => ({ managerPublicKey: options.announcedKey }),
        join: () => {
          state.joins++;
          return {
            clientId: "client-1",
            sessionToken: "session-1",
            managerPublicKey: options.announcedKey,
            managerGroupId: options.groupId ?? "",
            taskLease: durationFromMs(60_000),
            maxRunTime: options.maxRunTimeMs === undefined ? undefined : durationFromMs(options.maxRunTimeMs),
          };
        },
        async *work(request, ctx: HandlerContext) {
          if (ctx.requestHeader.get("authorization") !== "Bearer session-1") throw new ConnectError("no session", Code.Unauthenticated);
          state.workStreams++;
          while (!ctx.signal.aborted) {
            const n = Math.min(request.slots - state.held, state.queue.length);
            if (n > 0) {
              state.held += n;
              state.given += n;
              yield { tasks: state.queue.splice(0, n) };
            } else {
              await new Promise((resolve) => setTimeout(resolve, 2));
            }
          }
        },
        report: (request, ctx) => {
          if (ctx.requestHeader.get("authorization") !== "Bearer session-1") throw new ConnectError("no session", Code.Unauthenticated);
          state.reportCalls.push(request.results);
          state.held -= request.results.length;
          return { accepted: request.results.length };
        },
        getProgram: (request) => {
          state.programFetches++;
          const program = programs.get(request.hash);
          if (program === undefined) throw new ConnectError("no such program", Code.NotFound);
          return { program };
        },
      }),
  });
  const server: Http2Server = createServer(handler);
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    state,
    results: () => new Map(state.reportCalls.flat().map((result) => [result.copyId, result])),
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        // Streams of a worker that was not stopped would keep the server open.
        setTimeout(done, 500);
      }),
  };
}

/** JSON tasks of `program`, one per input, with copy ids `<prefix>-<i>`. */
export function jsonTasks(program: { hash: string }, inputs: unknown[], prefix = "copy"): Task[] {
  return inputs.map((input, i) =>
    create(TaskSchema, {
      copyId: `${prefix}-${i}`,
      unitId: `unit-${prefix}-${i}`,
      projectId: "project-1",
      programHash: program.hash,
      input: encoder.encode(JSON.stringify(input)),
      inputEncoding: Encoding.JSON,
      outputEncoding: Encoding.JSON,
    }),
  );
}

/** A result's JSON output, or `{ error }` when it has none. */
export function outputOf(result: TaskResult | undefined): unknown {
  if (result?.outcome.case !== "output") return { error: result?.outcome.case === "error" ? result.outcome.value : "missing" };
  return JSON.parse(decoder.decode(result.outcome.value));
}

/** A result's error kind and message, if it is an error. */
export function errorOf(result: TaskResult | undefined): { kind: string; message: string } | undefined {
  return result?.outcome.case === "error" ? { kind: result.outcome.value.kind, message: result.outcome.value.message } : undefined;
}

/** Waits until `condition` holds (polling every 10 ms), failing after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error("timed out waiting");
    await new Promise((done) => setTimeout(done, 10));
  }
}


/**
 * A TCP listener on 127.0.0.1:0 that counts the connections it receives, answering each with an
 * empty HTTP 204 and closing it: a program that reaches it shows up in `connections`.
 */
export async function startConnectionCounter() {
  const counter = { connections: 0 };
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    counter.connections++;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    socket.end("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    counter,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** A pino logger at `level` that keeps its lines as parsed objects in `lines`. */
export function capturingLogger(level = "info") {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}
