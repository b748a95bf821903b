import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { Client } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, freePort, startManagerProcess, type GridProcess } from "../bench/grid-processes.js";
import { createAdminClient } from "../cli/admin-client.js";
import type { AdminService } from "../gen/disio/v1/admin_service_pb.js";

const run = promisify(execFile);
const ADMIN_TOKEN = "units-add-token";
const LINES = 5_000;
const BATCH = 500;

/** What the proxy does with the n-th AddUnits call (1-based): pass it on, pass it on and lose the answer, or lose the call. */
type Fate = "forward" | "lose-answer" | "lose-call";

/**
 * An HTTP proxy in front of the manager that decides the fate of each AddUnits call, as a flaky
 * network or a manager killed mid-call would: other calls pass.
 */
async function startProxy(target: string, fate: (call: number) => Fate): Promise<{ url: string; close(): Promise<void> }> {
  let calls = 0;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const what = req.url === "/disio.v1.AdminService/AddUnits" ? fate(++calls) : "forward";
    if (what === "lose-call") return void req.socket.destroy();
    const upstream = request(new URL(req.url!, target), { method: req.method, headers: req.headers }, (answer) => {
      const body: Buffer[] = [];
      answer.on("data", (chunk: Buffer) => body.push(chunk));
      answer.on("end", () => {
        if (what === "lose-answer") return void req.socket.destroy();
        res.writeHead(answer.statusCode!, answer.headers);
        res.end(Buffer.concat(body));
      });
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve()).closeAllConnections()),
  };
}

/** Runs `disio …args` against `managerUrl`; never throws, returns code and output. */
async function disio(managerUrl: string, args: string[]) {
  const env = { ...process.env, DISIO_MANAGER_URL: managerUrl, DISIO_ADMIN_TOKEN: ADMIN_TOKEN };
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** Every unit input of a project, as text, oldest first. */
async function inputsOf(admin: Client<typeof AdminService>, projectId: string): Promise<string[]> {
  const inputs: string[] = [];
  let pageToken = "";
  do {
    const page = await admin.listUnits({ projectId, pageSize: 10_000, pageToken });
    inputs.push(...page.units.map((unit) => new TextDecoder().decode(unit.input)));
    pageToken = page.nextPageToken;
  } while (pageToken !== "");
  return inputs;
}

describe("disio units add over a failing connection", () => {
  let dir: string;
  let managerArgs: Parameters<typeof startManagerProcess>[0];
  let manager: GridProcess;
  let admin: Client<typeof AdminService>;
  let inputsFile: string;
  const expected = Array.from({ length: LINES }, (_, x) => JSON.stringify({ x }));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "disio-units-add-"));
    managerArgs = { dataDir: join(dir, "manager"), port: await freePort(), adminToken: ADMIN_TOKEN, logDir: dir };
    manager = await startManagerProcess(managerArgs);
    admin = createAdminClient({ manager: manager.url, token: ADMIN_TOKEN });
    inputsFile = join(dir, "inputs.ndjson");
    writeFileSync(inputsFile, expected.join("\n") + "\n");
  }, 30_000);
  afterAll(async () => {
    await manager?.stop("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  async function newProject(name: string): Promise<string> {
    return (await admin.createProject({ name, programSource: "export default (x) => x;", paused: true })).project!.id;
  }

  it("says which lines are stored when it gives up, and a rerun adds exactly the rest", async () => {
    const projectId = await newProject("given-up");
    // Three batches answered, the fourth stored with its answer lost, then nothing gets through.
    const proxy = await startProxy(manager.url, (call) => (call <= 3 ? "forward" : call === 4 ? "lose-answer" : "lose-call"));
    const args = ["units", "add", "--project", projectId, "--file", inputsFile, "--batch-size", String(BATCH), "--json"];
    const failed = await disio(proxy.url, [...args, "--retries", "2"]);
    await proxy.close();
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe("");
    expect(failed.stderr.trim().split("\n")).toHaveLength(1);
    expect(failed.stderr.trim()).toMatch(
      /^error: \w+: .+ \(stored lines 1-1500 of \S+inputs\.ndjson; rerun the same command to resume: stored batches are skipped\)$/,
    );
    expect((await inputsOf(admin, projectId)).length).toBe(4 * BATCH);

    // The request ids are in the database: they survive a manager killed with SIGKILL.
    await manager.stop("SIGKILL");
    manager = await startManagerProcess(managerArgs);

    const rerun = await disio(manager.url, args);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(JSON.parse(rerun.stdout)).toEqual({ project: projectId, added: LINES - 4 * BATCH, alreadyStored: 4 * BATCH });
    const inputs = await inputsOf(admin, projectId);
    expect(inputs).toHaveLength(LINES);
    expect(inputs).toEqual(expected);

    const again = await disio(manager.url, args.filter((arg) => arg !== "--json"));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout.trim()).toBe(`added 0 units to project given-up (${projectId}) (${LINES} were already stored)`);
    expect((await admin.getProject({ id: projectId })).project!.counts!.total).toBe(BigInt(LINES));
  }, 60_000);

  it("retries a batch whose answer or call was lost, and stores each line once", async () => {
    const projectId = await newProject("retried");
    const proxy = await startProxy(manager.url, (call) => (call === 2 ? "lose-answer" : call === 3 ? "lose-call" : "forward"));
    const added = await disio(proxy.url, ["units", "add", "--project", projectId, "--file", inputsFile, "--batch-size", String(BATCH), "--json"]);
    await proxy.close();
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toEqual({ project: projectId, added: LINES, alreadyStored: 0 });
    expect(await inputsOf(admin, projectId)).toEqual(expected);
  }, 60_000);

  it("adds the same lines again under another --tag", async () => {
    const projectId = await newProject("tagged");
    const args = ["units", "add", "--project", projectId, "--file", inputsFile, "--json"];
    expect(JSON.parse((await disio(manager.url, args)).stdout)).toMatchObject({ added: LINES, alreadyStored: 0 });
    expect(JSON.parse((await disio(manager.url, [...args, "--tag", "second"])).stdout)).toMatchObject({ added: LINES, alreadyStored: 0 });
    expect(await inputsOf(admin, projectId)).toEqual([...expected, ...expected]);
  }, 60_000);
});
