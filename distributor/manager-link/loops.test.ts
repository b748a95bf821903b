import { pino } from "pino";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { TaskSchema } from "../../gen/disio/v1/common_pb.js";
import { StoreFullError } from "../../core/errors.js";
import { sleep } from "../signal.js";
import type { StoredResult } from "../store/store.js";
import { runHeartbeatLoop, type Directives } from "./heartbeat-loop.js";
import { runLeaseLoop } from "./lease-loop.js";
import { flushBatch, runReportLoop } from "./report-loop.js";
import { runRenewLoop } from "./renew-loop.js";

const log = pino({ level: "silent" });
const fastBackoff = { initialMs: 5, maxMs: 20, multiplier: 2, jitter: 0 };

function stored(n: number, bytes = 10): StoredResult {
  return { copyId: `c${n}`, unitId: `u${n}`, clientId: "a", receivedAtMs: 0, result: new Uint8Array(bytes) };
}

async function until(check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("runLeaseLoop", () => {
  it("leases in batches up to the high watermark, then stops", async () => {
    let ready = 0;
    const asked: number[] = [];
    const abort = new AbortController();
    const loop = runLeaseLoop(
      {
        lease: async (max) => {
          asked.push(max);
          return Array.from({ length: max }, () => toBinary(TaskSchema, create(TaskSchema, { copyId: "x" })));
        },
        state: async () => ({ ready, held: ready, heldBytes: ready * 10, draining: false }),
        settings: () => ({ lowWatermark: 100, highWatermark: 250, capacity: 1000, capacityBytes: 1e9, leaseBatch: 100, leaseWaitMs: 1000 }),
        add: async (tasks: Uint8Array[]) => {
          ready += tasks.length;
        },
        release: async () => 0,
        waitForDemand: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 10))),
        log,
      },
      { stop: abort.signal, cancel: abort.signal },
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(asked).toEqual([100]);
    expect(ready).toBe(100);
    ready = 40;
    await until(() => asked.length === 2);
    await new Promise((r) => setTimeout(r, 30));
    expect(asked).toEqual([100, 100]);
    abort.abort();
    await loop;
  });

  it("retries with backoff while the manager fails", async () => {
    let calls = 0;
    const abort = new AbortController();
    const loop = runLeaseLoop(
      {
        lease: async () => {
          calls++;
          throw new Error("down");
        },
        state: async () => ({ ready: 0, held: 0, heldBytes: 0, draining: false }),
        settings: () => ({ lowWatermark: 1, highWatermark: 2, capacity: 2, capacityBytes: 1e9, leaseBatch: 2, leaseWaitMs: 10 }),
        add: async () => undefined,
        release: async () => 0,
        waitForDemand: async () => undefined,
        log,
        backoff: fastBackoff,
      },
      { stop: abort.signal, cancel: abort.signal },
    );
    await until(() => calls >= 3);
    abort.abort();
    await loop;
    expect(calls).toBeLessThan(20);
  });

  it("gives copies the store cannot take back to the manager at once, and backs off more until a batch is stored", async () => {
    const lines: Array<{ msg: string; retryInMs?: number; released?: number }> = [];
    const captured = pino({ level: "debug" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    let leases = 0;
    let failuresLeft = 3;
    const released: string[][] = [];
    const added: string[][] = [];
    const abort = new AbortController();
    const idsOf = (tasks: Uint8Array[]) => tasks.map((t) => fromBinary(TaskSchema, t).copyId);
    const loop = runLeaseLoop(
      {
        lease: async () => {
          leases++;
          return [1, 2].map((k) => toBinary(TaskSchema, create(TaskSchema, { copyId: `c${leases}-${k}` })));
        },
        state: async () => ({ ready: added.flat().length, held: added.flat().length, heldBytes: 0, draining: false }),
        settings: () => ({ lowWatermark: 1, highWatermark: 2, capacity: 2, capacityBytes: 1e9, leaseBatch: 2, leaseWaitMs: 10 }),
        add: async (tasks) => {
          if (failuresLeft-- > 0) throw new StoreFullError("database or disk is full");
          added.push(idsOf(tasks));
        },
        release: async (tasks) => {
          released.push(idsOf(tasks));
          return tasks.length;
        },
        waitForDemand: (ms, signal) => sleep(Math.min(ms, 5), signal),
        log: captured,
        backoff: fastBackoff,
      },
      { stop: abort.signal, cancel: abort.signal },
    );
    await until(() => added.length === 1);
    abort.abort();
    await loop;
    expect(released).toEqual([["c1-1", "c1-2"], ["c2-1", "c2-2"], ["c3-1", "c3-2"]]);
    expect(added).toEqual([["c4-1", "c4-2"]]);
    expect(leases).toBe(4);
    const failures = lines.filter((l) => l.msg === "could not store leased copies, released them");
    expect(failures.map((l) => [l.retryInMs, l.released])).toEqual([[5, 2], [10, 2], [20, 2]]);
  });
});

describe("runLeaseLoop on stop", () => {
  /** A loop whose one Lease answers only when `answer` is called, or rejects when its `cancel` aborts. */
  function slowLease() {
    const added: number[] = [];
    let calls = 0;
    let answer: (tasks: Uint8Array[]) => void = () => undefined;
    const stop = new AbortController();
    const cancel = new AbortController();
    const loop = runLeaseLoop(
      {
        lease: (max, _waitMs, signals) => {
          calls++;
          expect(signals.stop.aborted).toBe(false);
          return new Promise((resolve, reject) => {
            answer = resolve;
            signals.cancel.addEventListener("abort", () => reject(new Error("cancelled")), { once: true });
          });
        },
        state: async () => ({ ready: 0, held: 0, heldBytes: 0, draining: false }),
        settings: () => ({ lowWatermark: 10, highWatermark: 20, capacity: 100, capacityBytes: 1e9, leaseBatch: 20, leaseWaitMs: 1000 }),
        add: async (tasks) => {
          added.push(tasks.length);
        },
        release: async () => 0,
        waitForDemand: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 10))),
        log,
      },
      { stop: stop.signal, cancel: cancel.signal },
    );
    return { loop, stop, cancel, added, calls: () => calls, answer: (n: number) => answer(Array.from({ length: n }, () => new Uint8Array([1]))) };
  }

  it("stores what the Lease in flight brings after stop, and asks for no other", async () => {
    const lease = slowLease();
    await until(() => lease.calls() === 1);
    lease.stop.abort();
    let ended = false;
    void lease.loop.then(() => (ended = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(ended).toBe(false);
    lease.answer(20);
    await lease.loop;
    expect(lease.added).toEqual([20]);
    expect(lease.calls()).toBe(1);
  });

  it("gives up the Lease in flight on cancel", async () => {
    const lease = slowLease();
    await until(() => lease.calls() === 1);
    lease.stop.abort();
    lease.cancel.abort();
    await lease.loop;
    expect(lease.added).toEqual([]);
    expect(lease.calls()).toBe(1);
  });
});

describe("report loop", () => {
  it("flushBatch cuts at the byte limit and acks only after the manager answered", async () => {
    const buffered = [stored(1, 600), stored(2, 600), stored(3, 600)];
    const events: string[] = [];
    const sent = await flushBatch(
      {
        pending: async (limit) => buffered.slice(0, limit),
        send: async (results) => {
          events.push(`send ${results.map((r) => r.copyId).join(",")}`);
        },
        ack: async (ids) => {
          events.push(`ack ${ids.join(",")}`);
        },
        maxBatchBytes: 1300,
      },
      10,
      new AbortController().signal,
    );
    expect(sent).toBe(2);
    expect(events).toEqual(["send c1,c2", "ack c1,c2"]);
  });

  it("keeps results when the send fails, and sends them in batches once the manager answers", async () => {
    let buffered = Array.from({ length: 25 }, (_, i) => stored(i));
    let up = false;
    const batches: number[] = [];
    const abort = new AbortController();
    const loop = runReportLoop(
      {
        count: async () => buffered.length,
        pending: async (limit) => buffered.slice(0, limit),
        send: async (results) => {
          if (!up) throw new Error("unavailable");
          batches.push(results.length);
        },
        ack: async (ids) => {
          buffered = buffered.filter((r) => !ids.includes(r.copyId));
        },
        waitForResults: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 5))),
        settings: () => ({ reportBatch: 10, flushIntervalMs: 20 }),
        maxBatchBytes: 1 << 20,
        log,
        backoff: fastBackoff,
      },
      abort.signal,
    );
    await new Promise((r) => setTimeout(r, 60));
    expect(buffered).toHaveLength(25);
    up = true;
    await until(() => buffered.length === 0);
    abort.abort();
    await loop;
    expect(batches).toEqual([10, 10, 5]);
  });
});

describe("runRenewLoop", () => {
  it("renews due copies and drops the lost ones", async () => {
    const applied: string[] = [];
    const dropped: string[] = [];
    let due = ["c1", "c2", "c3"];
    const abort = new AbortController();
    const loop = runRenewLoop(
      {
        due: async () => due.splice(0),
        renew: async (ids) => ({ renewed: ids.filter((id) => id !== "c2").map((copyId) => ({ copyId, deadlineMs: 100_000 })), lost: ["c2"] }),
        applyRenewed: async (renewed) => {
          applied.push(...renewed.map((r) => `${r.copyId}@${r.leaseDeadlineMs}`));
          expect(renewed.every((r) => r.renewAtMs < r.leaseDeadlineMs)).toBe(true);
        },
        drop: async (ids) => {
          dropped.push(...ids);
        },
        intervalMs: 5,
        batch: 100,
        log,
        now: () => 40_000,
      },
      abort.signal,
    );
    await until(() => dropped.length === 1);
    abort.abort();
    await loop;
    expect(applied).toEqual(["c1@100000", "c3@100000"]);
    expect(dropped).toEqual(["c2"]);
    due = [];
  });
});

describe("runHeartbeatLoop", () => {
  it("applies directives and carries ended sessions and given copies over a failed heartbeat", async () => {
    const sentSessions: number[] = [];
    const sentGiven: string[][] = [];
    const applied: Directives[] = [];
    let calls = 0;
    const abort = new AbortController();
    const loop = runHeartbeatLoop(
      {
        load: async () => ({
          heldCopies: 1,
          clients: 1,
          bufferedResults: 0,
          freeSlots: 9,
          endedSessions: [{ clientId: `x${calls}`, platform: "node", joinedAtMs: 0, lastSeenMs: 1, results: 0 }],
          givenCopies: [{ copyId: `c${calls}`, clientId: "k" }],
        }),
        send: async (load) => {
          calls++;
          sentSessions.push(load.endedSessions.length);
          sentGiven.push(load.givenCopies.map((g) => g.copyId));
          if (calls === 1) throw new Error("down");
          return { drain: true, cancelledUnitIds: ["u1"], pausedProjectIds: [], peers: [] };
        },
        apply: async (d) => {
          applied.push(d);
        },
        intervalMs: () => 5,
        log,
      },
      abort.signal,
    );
    await until(() => applied.length >= 2);
    abort.abort();
    await loop;
    expect(sentSessions.slice(0, 3)).toEqual([1, 2, 1]);
    expect(sentGiven.slice(0, 3)).toEqual([["c0"], ["c0", "c1"], ["c2"]]);
    expect(applied[0]).toEqual({ drain: true, cancelledUnitIds: ["u1"], pausedProjectIds: [], peers: [] });
  });
});
